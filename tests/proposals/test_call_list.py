"""The public call list: open and upcoming calls first, past ones below, never archived ones."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_call, make_resource

URL = reverse("call_list")


def codes(calls) -> list[str]:
    return [call.code for call in calls]


def test_open_and_upcoming_calls_are_listed_first_and_past_ones_below(client, db):
    make_call("OPEN 2027-1", opens_in=timedelta(days=-5), closes_in=timedelta(days=20))
    make_call("SOON 2027-2", opens_in=timedelta(days=30), closes_in=timedelta(days=90))
    make_call("CLOSED 2026-2", opens_in=timedelta(days=-90), closes_in=timedelta(days=-10))
    decided = make_call(
        "DECIDED 2026-1", opens_in=timedelta(days=-300), closes_in=timedelta(days=-200)
    )
    decided.decisions_published_at = timezone.now() - timedelta(days=100)
    decided.save()
    archived = make_call(
        "OLD 2025-1", opens_in=timedelta(days=-700), closes_in=timedelta(days=-600)
    )
    archived.archived_at = timezone.now()
    archived.save()

    response = client.get(URL)

    assert response.status_code == 200
    assert codes(response.context["current"]) == ["OPEN 2027-1", "SOON 2027-2"]
    assert codes(response.context["past"]) == ["CLOSED 2026-2", "DECIDED 2026-1"]
    html = response.content.decode()
    assert "OLD 2025-1" not in html
    main, past = html.split("Past calls")
    assert "OPEN 2027-1" in main and "SOON 2027-2" in main
    assert "CLOSED 2026-2" in past and "DECIDED 2026-1" in past
    assert "CLOSED 2026-2" not in main


def test_a_card_shows_status_time_left_and_resources(client, db):
    storage = make_resource(
        "project-storage", name="Project storage", unit="TB", charge_rule="none"
    )
    make_call(
        opens_in=timedelta(days=-1),
        closes_in=timedelta(days=12, hours=4, minutes=30),
        resources=[
            (make_resource(), Decimal(2_500_000), Decimal(10_000), Decimal(500_000)),
            (storage, Decimal(500), Decimal(1), Decimal(100)),
        ],
    )

    html = client.get(URL).content.decode()

    assert '<span class="badge badge-open">Open</span>' in html
    assert '<span class="time-left">12 days 4 hours left</span>' in html
    assert "JUPITER Booster: 2,500,000 GPU-hours" in html
    assert "Project storage: 500 TB" in html


def test_a_deadline_within_48_hours_is_marked_soon(client, db):
    make_call(closes_in=timedelta(hours=5, minutes=30, seconds=30))

    html = client.get(URL).content.decode()

    assert '<span class="time-left soon">5 hours 30 minutes left</span>' in html


def test_an_upcoming_call_says_when_it_opens(client, db):
    make_call(opens_in=timedelta(days=3, hours=2, minutes=30), closes_in=timedelta(days=40))

    html = client.get(URL).content.decode()

    assert '<span class="badge badge-upcoming">Upcoming</span>' in html
    assert "Opens in 3 days 2 hours" in html


def test_dates_show_the_readers_zone_from_the_cookie(client, db):
    make_call(time_zone="Europe/Berlin")
    client.cookies["tz"] = "America/New_York"

    html = client.get(URL).content.decode()

    assert "(Europe/Berlin)</time> · " in html
    assert "(your time)" in html


@pytest.mark.parametrize(
    "cookie", ["Europe", "x" * 300, "Europe/../Europe/Berlin", "/etc/passwd", "UTC\x00", "../../"]
)
def test_a_time_zone_cookie_that_names_no_zone_is_ignored(client, db, cookie):
    make_call(time_zone="Europe/Berlin")
    client.cookies["tz"] = cookie

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "(Europe/Berlin)</time>" in html
    # The reader's zone falls back to the server's (Europe/Berlin): one time, no second one.
    assert "(your time)" not in html


def test_empty_list_says_so(client, db):
    response = client.get(URL)

    assert response.status_code == 200
    assert "No call is open or upcoming right now." in response.content.decode()
    assert "Past calls" not in response.content.decode()


def test_signed_in_applicant_sees_the_list(client, pi):
    make_call()
    client.force_login(pi)

    assert client.get(URL).status_code == 200


def test_post_is_not_allowed_but_head_is(client, db):
    assert client.post(URL).status_code == 405
    assert client.head(URL).status_code == 200


def _count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL).status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_calls(client, db):
    storage = make_resource("project-storage", name="Project storage", unit="TB")
    two = [
        (make_resource(), Decimal(1000), Decimal(1), Decimal(10)),
        (storage, Decimal(10), Decimal(1), Decimal(5)),
    ]
    make_call("A 2027-1", resources=two)
    make_call("PAST 2026-1", opens_in=timedelta(days=-90), closes_in=timedelta(days=-30))
    one_each = _count_queries(client)

    make_call("B 2027-2", resources=two)
    make_call("C 2028-1", opens_in=timedelta(days=20), closes_in=timedelta(days=60), resources=two)
    make_call("PAST 2026-2", opens_in=timedelta(days=-80), closes_in=timedelta(days=-20))
    make_call("PAST 2025-2", opens_in=timedelta(days=-70), closes_in=timedelta(days=-15))
    three_each = _count_queries(client)

    assert one_each == three_each
