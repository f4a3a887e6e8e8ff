"""The half-yearly rhythm: next code, dates moved on the wall clock, last days of months."""

import zoneinfo
from datetime import UTC, date, datetime

import pytest

from proposals.calls.cycles import local_time_exists, next_cycle_label, shift_date, shift_datetime

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("JUPITER 2027-1", "JUPITER 2027-2"),
        ("JUPITER 2027-2", "JUPITER 2028-1"),
        ("JUP27-1", "JUP27-2"),
        ("JUP27-2", "JUP28-1"),
        ("JUP99-2", "JUP00-1"),
        ("JUPITER 2027-1 call for proposals", "JUPITER 2027-2 call for proposals"),
        ("EuroHPC 2026-2 AI Factory", "EuroHPC 2027-1 AI Factory"),
    ],
)
def test_next_cycle_label_moves_the_last_year_and_half(label, expected):
    assert next_cycle_label(label) == expected


@pytest.mark.parametrize("label", ["Special call", "JUPITER 2027-3", "JUP12345-1"])
def test_next_cycle_label_is_none_without_a_year_and_half(label):
    assert next_cycle_label(label) is None


def test_shift_keeps_17_00_in_berlin_from_winter_to_summer_time():
    winter = datetime(2027, 1, 15, 16, 0, tzinfo=UTC)  # 17:00 CET

    moved = shift_datetime(winter, months=6, zone=BERLIN)

    assert moved.astimezone(BERLIN).replace(tzinfo=None) == datetime(2027, 7, 15, 17, 0)
    assert moved.astimezone(UTC) == datetime(2027, 7, 15, 15, 0, tzinfo=UTC)  # 17:00 CEST


def test_shift_keeps_17_00_in_berlin_from_summer_to_winter_time():
    summer = datetime(2027, 7, 15, 15, 0, tzinfo=UTC)  # 17:00 CEST

    moved = shift_datetime(summer, months=6, zone=BERLIN)

    assert moved.astimezone(UTC) == datetime(2028, 1, 15, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2027, 5, 1), date(2027, 11, 1)),
        (date(2027, 11, 1), date(2028, 5, 1)),
        (date(2028, 4, 30), date(2028, 10, 31)),
        (date(2028, 10, 31), date(2029, 4, 30)),
        (date(2027, 8, 31), date(2028, 2, 29)),
        (date(2027, 3, 15), date(2027, 9, 15)),
    ],
)
def test_shift_date_by_six_months_keeps_ends_of_months(start, expected):
    assert shift_date(start, months=6) == expected


def test_a_time_skipped_by_the_clock_change_does_not_exist():
    assert local_time_exists(datetime(2027, 3, 28, 2, 30), BERLIN) is False
    assert local_time_exists(datetime(2027, 3, 28, 3, 30), BERLIN) is True
    assert local_time_exists(datetime(2027, 10, 31, 2, 30), BERLIN) is True  # happens twice
