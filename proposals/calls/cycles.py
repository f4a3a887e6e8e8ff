"""The half-yearly rhythm of calls (PRODUCT §3): moving dates and naming the next cycle.

Pure functions, no database: the services, the demo data and the tests share them.
"""

import re
import zoneinfo
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

CYCLE_MONTHS = 6

# "2027-1", "27-2": a year (four or two digits) and the half of it, not inside a longer number.
_CYCLE = re.compile(r"(?<!\d)(?P<year>\d{4}|\d{2})-(?P<half>[12])(?!\d)")


def next_cycle_label(label: str) -> str | None:
    """The label of the next half-year: "JUPITER 2027-1" → "JUPITER 2027-2", "JUP27-2" → "JUP28-1".

    The last "<year>-<half>" in the label is moved on; None when the label has none.
    """
    matches = list(_CYCLE.finditer(label))
    if not matches:
        return None
    match = matches[-1]
    year_text, half = match["year"], int(match["half"])
    if half == 1:
        new_year, new_half = year_text, 2
    else:
        width = len(year_text)
        new_year = str((int(year_text) + 1) % 10**width).zfill(width)
        new_half = 1
    return f"{label[: match.start()]}{new_year}-{new_half}{label[match.end() :]}"


def shift_datetime(value: datetime, *, months: int, zone: zoneinfo.ZoneInfo) -> datetime:
    """Move an instant by whole months on the wall clock of ``zone``.

    17:00 in Berlin stays 17:00 in Berlin whether the new date is in summer or winter time, so
    the instant in UTC moves by six months plus or minus the daylight-saving hour.
    """
    local = value.astimezone(zone).replace(tzinfo=None)
    moved = local + relativedelta(months=months)
    return moved.replace(tzinfo=zone)


def _is_last_day_of_month(value: date) -> bool:
    return (value + timedelta(days=1)).day == 1


def shift_date(value: date, *, months: int) -> date:
    """Move a date by whole months; the last day of a month stays the last day.

    1 May → 1 Nov and 30 Apr → 31 Oct, so an allocation period of "1 May to 30 April" becomes
    "1 November to 31 October".
    """
    moved = value + relativedelta(months=months)
    if _is_last_day_of_month(value):
        moved += relativedelta(day=31)
    return moved


def local_time_exists(value: datetime, zone: zoneinfo.ZoneInfo) -> bool:
    """False for a wall-clock time skipped when clocks go forward (e.g. 02:30 on a DST night)."""
    aware = value.replace(tzinfo=zone)
    round_trip = aware.astimezone(zoneinfo.ZoneInfo("UTC")).astimezone(zone)
    return round_trip.replace(tzinfo=None) == value.replace(tzinfo=None)
