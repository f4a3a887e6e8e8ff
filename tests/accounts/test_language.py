"""German and Korean (PRODUCT §10): a language on the profile and a switch in the footer;
pages in the profile's language over the browser's; emails in the recipient's language;
instants in each language's own order, always with the zone."""

import zoneinfo
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.formatting import format_day, format_instant
from accounts.models import User
from notifications.enums import EmailKind
from notifications.models import OutboxMessage
from notifications.services import outbox_queue_each
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
INSTANT = datetime(2027, 1, 15, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "15 Jan 2027, 17:00 CET"),
        ("de", "15. Jan 2027, 17:00 CET"),
        ("ko", "2027년 1월 15일 17:00 CET"),
    ],
)
def test_an_instant_reads_in_each_language_s_order_with_its_zone(language, expected):
    with translation.override(language):
        assert format_instant(INSTANT, BERLIN) == expected


def test_a_day_alone_drops_the_time():
    with translation.override("ko"):
        assert format_day(INSTANT.date()) == "2027년 1월 15일"


def test_the_footer_switch_sets_the_cookie_and_the_profile_language(client, pi):
    client.force_login(pi)
    response = client.post(reverse("language_switch"), {"language": "de", "next": "/calls/"})

    assert response.status_code == 302
    assert response["Location"] == "/calls/"
    assert response.cookies["django_language"].value == "de"
    pi.refresh_from_db()
    assert pi.language == "de"
    page = client.get(reverse("call_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="de"' in page.content.decode()


def test_anonymous_switches_with_a_cookie_only(client):
    response = client.post(reverse("language_switch"), {"language": "ko", "next": "/calls/"})
    assert response.cookies["django_language"].value == "ko"
    assert '<html lang="ko"' in client.get(reverse("call_list")).content.decode()


def test_an_unknown_language_or_a_get_is_refused(client, pi):
    client.force_login(pi)
    response = client.post(reverse("language_switch"), {"language": "xx", "next": "/"})
    assert response.status_code == 400
    assert client.get(reverse("language_switch")).status_code == 405
    pi.refresh_from_db()
    assert pi.language == ""


def test_a_foreign_next_is_not_followed(client):
    response = client.post(
        reverse("language_switch"), {"language": "de", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_the_profile_saves_the_language(client, pi):
    client.force_login(pi)
    page = client.get(reverse("profile")).content.decode()
    assert 'name="language"' in page
    form = client.get(reverse("profile")).context["form"]
    data = {key: value for key, value in form.initial.items() if value not in (None, [])}
    data["expertise"] = form.initial["expertise"]
    data["language"] = "ko"
    client.post(reverse("profile"), data)
    pi.refresh_from_db()
    assert pi.language == "ko"


def test_emails_follow_the_recipient_s_language_not_the_sender_s():
    german = make_user("de@uni.example", full_name="Dora Deutsch")
    User.objects.filter(pk=german.pk).update(language="de")
    german.refresh_from_db()
    korean = make_user("ko@uni.example", full_name="Kim Ko")
    User.objects.filter(pk=korean.pk).update(language="ko")
    korean.refresh_from_db()
    english = make_user("en@uni.example", full_name="Ed English")
    context = {
        "allocation": SimpleNamespace(account="ai-2027-001"),
        "resource": SimpleNamespace(name="JUPITER Booster"),
        "month": date(2027, 3, 1),
        "allocation_path": "/allocations/1/",
    }
    with translation.override("ko"):  # whoever's request queued it reads Korean
        outbox_queue_each(
            kind=EmailKind.ALLOCATION_LOWPRIO,
            event="language-test",
            people=[german, korean, english],
            context=context,
        )

    subjects = dict(OutboxMessage.objects.values_list("recipient", "subject"))
    assert "März 2027" in subjects["de@uni.example"]
    assert (
        subjects["ko@uni.example"]
        == "[Allot] ai-2027-001: 2027년 3월 JUPITER Booster 낮은 우선순위"
    )
    assert subjects["en@uni.example"].endswith("for March 2027")
