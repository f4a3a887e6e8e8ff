"""The public page of one call: description, guidelines, dates, budgets, criteria."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from tests.factories import make_call, make_resource


def url(call) -> str:
    return reverse("call_detail", args=[call.pk])


def test_detail_shows_everything_an_applicant_needs(client, db):
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    call = make_call(
        opens_at=datetime(2026, 11, 1, 9, 0, tzinfo=berlin),
        closes_at=datetime(2027, 1, 15, 17, 0, tzinfo=berlin),
        review_due_at=datetime(2027, 2, 28, 17, 0, tzinfo=berlin),
        reply_opens_at=datetime(2027, 3, 3, 9, 0, tzinfo=berlin),
        reply_closes_at=datetime(2027, 3, 10, 17, 0, tzinfo=berlin),
        decisions_due_at=datetime(2027, 3, 31, 17, 0, tzinfo=berlin),
        period_start=date(2027, 5, 1),
        period_end=date(2028, 4, 30),
        guidelines="First line.\nSecond line <b>bold</b>.",
        resources=[(make_resource(), Decimal(2_500_000), Decimal(10_000), Decimal(500_000))],
    )
    client.cookies["tz"] = "Europe/Berlin"

    html = client.get(url(call)).content.decode()

    assert "<h1>JUPITER 2027-1</h1>" in html
    assert "Large-scale AI and simulation projects on JUPITER." in html
    assert "<p>First line.<br>Second line &lt;b&gt;bold&lt;/b&gt;.</p>" in html
    for expected in [
        "1 Nov 2026, 09:00 CET (Europe/Berlin)",
        "15 Jan 2027, 17:00 CET (Europe/Berlin)",
        "28 Feb 2027, 17:00 CET (Europe/Berlin)",
        "3 Mar 2027, 09:00 CET (Europe/Berlin)",
        "10 Mar 2027, 17:00 CET (Europe/Berlin)",
        "31 Mar 2027, 17:00 CEST (Europe/Berlin)",
        "1 May 2027 to 30 Apr 2028",
        "2,500,000 GPU-hours",
        "10,000 GPU-hours",
        "500,000 GPU-hours",
        "Scientific excellence",
        "Feasibility",
        "0–5",
    ]:
        assert expected in html, expected
    assert "your time" not in html


def test_detail_shows_the_readers_time_beside_the_calls(client, db):
    call = make_call(
        closes_at=datetime(2027, 1, 15, 16, 0, tzinfo=UTC),
        opens_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    client.cookies["tz"] = "America/New_York"

    html = client.get(url(call)).content.decode()

    assert "15 Jan 2027, 17:00 CET (Europe/Berlin)" in html
    assert "15 Jan 2027, 11:00 EST" in html


def test_open_call_shows_time_left(client, db):
    call = make_call(closes_in=timedelta(days=3, hours=1, minutes=30))

    assert (
        '<span class="time-left">3 days 1 hour left</span>'
        in client.get(url(call)).content.decode()
    )


def test_archived_call_is_still_readable_by_its_address(client, db):
    call = make_call(archived_at=timezone.now())

    response = client.get(url(call))

    assert response.status_code == 200
    assert "This call is archived." in response.content.decode()


def test_unknown_call_is_404(client, db):
    assert client.get(reverse("call_detail", args=[999])).status_code == 404


def test_post_is_not_allowed(client, db):
    assert client.post(url(make_call())).status_code == 405


def test_managers_get_an_edit_link_and_applicants_do_not(client, pi, manager):
    call = make_call()
    edit = reverse("manage_call_edit", args=[call.pk])

    client.force_login(pi)
    assert edit not in client.get(url(call)).content.decode()

    client.force_login(manager)
    assert edit in client.get(url(call)).content.decode()
