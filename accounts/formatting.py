"""How values read for people: instants in a zone, durations, amounts.

Plain functions, shared by services, emails and the template tags that wrap them
(``proposals.templatetags.calls``). In the lowest app so that every app may use them.
"""

import zoneinfo
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def format_instant(value: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """An instant as "15 Jan 2027, 17:00 CET"; seconds only when it has some (strict deadlines)."""
    local = value.astimezone(zone)
    pattern = "j M Y, H:i:s" if local.second else "j M Y, H:i"
    return f"{dateformat.format(local, pattern)} {local.tzname()}"


def duration_text(delta: timedelta) -> str:
    """A duration as "12 days 4 hours", "5 hours 3 minutes", "7 minutes", "less than a minute"."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60

    def part(count: int, singular: str, plural: str) -> str:
        return ngettext(singular, plural, count) % {"count": count}

    day_text = part(days, "%(count)d day", "%(count)d days")
    hour_text = part(hours, "%(count)d hour", "%(count)d hours")
    minute_text = part(minutes, "%(count)d minute", "%(count)d minutes")
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
