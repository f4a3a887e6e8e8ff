"""How dates read, in one place: the call's zone beside the reader's, time left, and the one
format of every other instant, date and month (``accounts.formatting``).

``{{ value|instant }}`` → "4 Dec 2026, 17:13 CET" in the reader's zone; ``{{ value|iso }}`` for
``<time datetime>``; ``{{ date|day }}`` → "4 Dec 2026"; ``{{ date|month }}`` → "May 2027".
Templates use no ``|date:`` of their own (``tests/test_date_format.py``).

``{% call_datetime value call %}`` → "15 Jan 2027, 17:00 CET (Europe/Berlin) · 15 Jan 2027,
11:00 EST (your time)", the second part only when the reader's clock shows something else.
``{% time_left deadline %}`` → "12 days 4 hours left", marked ``.soon`` under 48 hours.
"""

import zoneinfo
from datetime import date, datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.formatting import (
    amount,
    duration_text,
    format_day,
    format_instant,
    format_month,
    hours,
    iso_instant,
    time_left_text,
)
from proposals.calls.models import Call

register = template.Library()

SOON = timedelta(hours=48)


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
        iso_instant(value),
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


register.filter("amount", amount)


@register.filter
def instant(value: datetime | None) -> str:
    """An instant in the reader's zone, with the zone: "4 Dec 2026, 17:13 CET"."""
    return format_instant(value, timezone.get_current_timezone()) if value else ""


@register.filter
def iso(value: datetime | None) -> str:
    return iso_instant(value) if value else ""


@register.filter
def day(value: date | None) -> str:
    """A date without a time: "4 Dec 2026"."""
    return format_day(value) if value else ""


@register.filter
def month(value: date | None) -> str:
    return format_month(value) if value else ""


register.filter("hours", hours)
