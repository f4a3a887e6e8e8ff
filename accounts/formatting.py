"""How values read for people: instants in a zone, durations, amounts.

Plain functions, shared by services, emails and the template tags that wrap them
(``proposals.templatetags.calls``). In the lowest app so that every app may use them.
"""

import zoneinfo
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import dateformat
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

# One format for an instant per language, with the zone: "15 Jan 2027, 17:00 CET",
# "15. Jan 2027, 17:00 CET", "2027년 1월 15일 17:00 CET". Days alone drop the time.
INSTANT_FORMATS = {
    "en": ("j M Y, H:i", "j M Y, H:i:s", "j M Y"),
    "de": ("j. M Y, H:i", "j. M Y, H:i:s", "j. M Y"),
    "ko": ("Y년 n월 j일 H:i", "Y년 n월 j일 H:i:s", "Y년 n월 j일"),
}


def _formats() -> tuple[str, str, str]:
    language = (get_language() or "en").split("-")[0]
    return INSTANT_FORMATS.get(language, INSTANT_FORMATS["en"])


def format_instant(value: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """An instant as "15 Jan 2027, 17:00 CET" in the active language's order; seconds only
    when it has some (strict deadlines)."""
    local = value.astimezone(zone)
    minutes, seconds, _day = _formats()
    return f"{dateformat.format(local, seconds if local.second else minutes)} {local.tzname()}"


def format_day(value: date) -> str:
    """A day without a time (a period's end, a report's due date) as "15 Jan 2027", in the
    active language's order."""
    return dateformat.format(value, _formats()[2])


def format_month(value: date) -> str:
    """A month as "May 2027" ("2027년 5월" in Korean)."""
    language = (get_language() or "en").split("-")[0]
    return dateformat.format(value, "Y년 n월" if language == "ko" else "F Y")


def iso_instant(value: datetime) -> str:
    """An instant for machines (``<time datetime>``), in UTC: "2026-12-04T16:13:00Z"."""
    return value.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat().replace("+00:00", "Z")


def duration_text(delta: timedelta) -> str:
    """A duration as "12 days 4 hours", "5 hours 3 minutes", "7 minutes", "less than a minute"."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60

    # Each ngettext call names its strings itself, so that makemessages finds them.
    day_text = ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    hour_text = ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    minute_text = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    if days:
        return f"{day_text} {hour_text}" if hours else day_text
    if hours:
        return f"{hour_text} {minute_text}" if minutes else hour_text
    if minutes:
        return minute_text
    return _("less than a minute")


def time_left_text(deadline: datetime, now: datetime) -> str:
    """The time left as "12 days 4 hours left", or "Closed" once the deadline has passed."""
    if deadline <= now:
        return _("Closed")
    return _("%(duration)s left") % {"duration": duration_text(deadline - now)}


def hours(value: Decimal | int | None) -> str:
    """An amount for people: whole units, rounded half up (8.0001 → "8", 2499.5 → "2,500")."""
    if value is None:
        return ""
    return intcomma(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def amount(value: Decimal | int | None) -> str:
    """2500000.00 → "2,500,000"; decimals only when there are some."""
    if value is None:
        return ""
    value = Decimal(value)
    whole = value == value.to_integral_value()
    return intcomma(value.quantize(Decimal(1)) if whole else value.normalize())
