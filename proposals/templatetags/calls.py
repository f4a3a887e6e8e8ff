"""How call dates read, in one place: the call's zone beside the reader's, and time left.

``{% call_datetime value call %}`` → "15 Jan 2027, 17:00 CET (Europe/Berlin) · 15 Jan 2027,
11:00 EST (your time)", the second part only when the reader's clock shows something else.
``{% time_left deadline %}`` → "12 days 4 hours left", marked ``.soon`` under 48 hours.
"""

import zoneinfo
from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from proposals.models import Call

register = template.Library()

SOON = timedelta(hours=48)


def format_instant(value: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """An instant as "15 Jan 2027, 17:00 CET"; seconds only when it has some (strict deadlines)."""
    local = value.astimezone(zone)
    pattern = "j M Y, H:i:s" if local.second else "j M Y, H:i"
    return f"{dateformat.format(local, pattern)} {local.tzname()}"


def _same_clock(value: datetime, first: zoneinfo.ZoneInfo, second) -> bool:
    a, b = value.astimezone(first), value.astimezone(second)
    return a.replace(tzinfo=None) == b.replace(tzinfo=None) and a.tzname() == b.tzname()


@register.simple_tag
def call_datetime(value: datetime | None, call: Call) -> SafeString | str:
    """An instant in the call's zone and, when it reads differently, in the reader's."""
    if value is None:
        return "—"
    call_part = format_html(
        '<time datetime="{}">{} ({})</time>',
        value.astimezone(zoneinfo.ZoneInfo("UTC")).isoformat().replace("+00:00", "Z"),
        format_instant(value, call.tz),
        call.time_zone,
    )
    reader = timezone.get_current_timezone()
    if _same_clock(value, call.tz, reader):
        return format_html('<span class="when">{}</span>', call_part)
    return format_html(
        '<span class="when">{} · <span class="reader-time">{} ({})</span></span>',
        call_part,
        format_instant(value, reader),
        _("your time"),
    )


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


@register.simple_tag
def time_left(deadline: datetime, now: datetime | None = None) -> SafeString:
    """The time left to ``deadline`` in a ``.time-left`` span, ``.soon`` under 48 hours."""
    now = now or timezone.now()
    soon = timedelta(0) < deadline - now < SOON
    return format_html(
        '<span class="time-left{}">{}</span>',
        " soon" if soon else "",
        time_left_text(deadline, now),
    )


@register.simple_tag
def time_until(start: datetime, now: datetime | None = None) -> str:
    """The wait for an upcoming call, as "Opens in 3 days 2 hours"."""
    now = now or timezone.now()
    return _("Opens in %(duration)s") % {"duration": duration_text(start - now)}


@register.filter
def amount(value: Decimal | int | None) -> str:
    """2500000.00 → "2,500,000"; decimals only when there are some."""
    if value is None:
        return ""
    value = Decimal(value)
    whole = value == value.to_integral_value()
    return intcomma(value.quantize(Decimal(1)) if whole else value.normalize())
