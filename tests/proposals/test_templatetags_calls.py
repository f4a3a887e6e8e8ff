"""Dates in the call's zone and the reader's, time left, amounts: the rules that live once."""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone

from accounts.formatting import amount, time_left_text
from proposals.calls.models import Call
from proposals.templatetags.calls import time_left

NOW = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


def text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", str(html))


def call_in(zone: str) -> Call:
    return Call(code="JUPITER 2027-1", time_zone=zone)


def render_datetime(value: datetime, call: Call) -> str:
    template = Template("{% load calls %}{% call_datetime value call %}")
    return template.render(Context({"value": value, "call": call}))


def test_a_date_reads_in_the_calls_zone_and_the_readers():
    deadline = datetime(2027, 1, 15, 16, 0, tzinfo=UTC)

    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        html = render_datetime(deadline, call_in("Europe/Berlin"))

    assert text(html) == (
        "15 Jan 2027, 17:00 CET (Europe/Berlin) · 15 Jan 2027, 11:00 EST (your time)"
    )
    assert '<time datetime="2027-01-15T16:00:00Z">' in html


def test_a_date_reads_once_when_the_reader_is_in_the_calls_zone():
    deadline = datetime(2027, 7, 15, 15, 0, tzinfo=UTC)

    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        html = render_datetime(deadline, call_in("Europe/Berlin"))

    assert text(html) == "15 Jul 2027, 17:00 CEST (Europe/Berlin)"


def test_a_zone_with_the_same_clock_reads_once():
    deadline = datetime(2027, 1, 15, 16, 0, tzinfo=UTC)

    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        html = render_datetime(deadline, call_in("Europe/Berlin"))

    assert text(html) == "15 Jan 2027, 17:00 CET (Europe/Berlin)"


def test_seconds_show_when_a_deadline_has_them():
    deadline = datetime(2027, 1, 15, 16, 59, 59, tzinfo=UTC)

    with timezone.override(zoneinfo.ZoneInfo("Asia/Seoul")):
        html = render_datetime(deadline, call_in("Europe/Berlin"))

    assert text(html) == (
        "15 Jan 2027, 17:59:59 CET (Europe/Berlin) · 16 Jan 2027, 01:59:59 KST (your time)"
    )


def test_a_missing_date_reads_as_a_dash():
    assert render_datetime(None, call_in("Europe/Berlin")) == "—"


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(days=12, hours=4, minutes=30), "12 days 4 hours left"),
        (timedelta(days=1), "1 day left"),
        (timedelta(days=2, hours=1), "2 days 1 hour left"),
        (timedelta(hours=5, minutes=3), "5 hours 3 minutes left"),
        (timedelta(hours=1), "1 hour left"),
        (timedelta(minutes=1, seconds=59), "1 minute left"),
        (timedelta(seconds=59), "less than a minute left"),
        (timedelta(0), "Closed"),
        (timedelta(seconds=-1), "Closed"),
    ],
)
def test_time_left_text(left, expected):
    assert time_left_text(NOW + left, NOW) == expected


@pytest.mark.parametrize(
    ("left", "soon"),
    [
        (timedelta(hours=48, seconds=1), False),
        (timedelta(hours=48), False),
        (timedelta(hours=47, minutes=59, seconds=59), True),
        (timedelta(seconds=1), True),
        (timedelta(0), False),
    ],
)
def test_time_left_is_marked_soon_under_48_hours(left, soon):
    html = time_left(NOW + left, NOW)
    css = "time-left soon" if soon else "time-left"
    assert html.startswith(f'<span class="{css}">')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("2500000.00"), "2,500,000"),
        (Decimal("40000000"), "40,000,000"),
        (Decimal("1.50"), "1.5"),
        (Decimal("0.00"), "0"),
        (None, ""),
    ],
)
def test_amount_drops_empty_decimals(value, expected):
    assert amount(value) == expected
