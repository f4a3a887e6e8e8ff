"""The usage chart of one resource of an allocation, as SVG text rendered on the server.

A pure function of the month series (no ORM, no JavaScript, no external files): cumulative
use to each month's end against the award and the cumulative monthly quotas. Styling is by
presentation attributes only, so the page's content security policy (no inline styles) holds
whether the SVG is inlined in the page or served on its own. Lines differ by dash pattern as
well as colour; ``<title>`` and ``<desc>`` name the chart for screen readers, and the page
beside it carries the same numbers as a table.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import dateformat
from django.utils.html import escape
from django.utils.translation import gettext as _

from accounts.formatting import amount as format_amount
from allocations.quota import Month, MonthTime

# Nearly square, so that the text stays legible when a phone shrinks the chart to its width.
WIDTH, HEIGHT = 480, 360
LEFT, RIGHT, TOP, BOTTOM = 80, 464, 20, 260  # the plot area
TICKS = 5
INK = "#1b2430"
GRID = "#d5dbe3"
USE_COLOUR = "#1f5fa8"
QUOTA_COLOUR = "#a34700"
AWARD_COLOUR = "#3d4a5c"


@dataclass(frozen=True)
class ChartMonth:
    """One month of the series: ``quota_to_date`` is the sum of the monthly quotas up to this
    month's end; ``used_to_date`` the cumulative use at its end (None for months to come)."""

    month: date
    quota_to_date: Decimal
    used_to_date: Decimal | None


def nice_step(top: Decimal, ticks: int = TICKS) -> Decimal:
    """A round step (1, 2, 2.5 or 5 × 10ⁿ) so that ``ticks`` steps reach at least ``top``."""
    if top <= 0:
        return Decimal(1)
    raw = top / ticks
    power = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal(1)
    for factor in (1, 2, Decimal("2.5"), 5, 10):
        if power * factor >= raw:
            return power * factor
    return power * 10  # pragma: no cover - 10 × power is always enough


def _coord(value: float) -> str:
    return f"{value:.1f}"


def render_usage_chart(
    *,
    months: list[ChartMonth],
    awarded: Decimal,
    unit: str,
    title: str,
    id_prefix: str = "chart",
) -> str:
    """SVG text: a line from 0 through the cumulative use at each past or current month's end
    (solid), the cumulative quota at each month's end (dashed), the award (dotted, level),
    axis labels, a grid, a legend, and ``<title>``/``<desc>`` (``id_prefix`` keeps their ids
    unique when a page holds several charts)."""
    n = max(len(months), 1)
    highest = max(
        [awarded, *(m.quota_to_date for m in months)]
        + [m.used_to_date for m in months if m.used_to_date is not None]
    )
    step = nice_step(highest)
    top_value = step * TICKS
    while top_value < highest:  # only when rounding left the top short
        top_value += step

    def x(index: int) -> float:
        return LEFT + (RIGHT - LEFT) * index / n

    def y(value: Decimal) -> float:
        return BOTTOM - (BOTTOM - TOP) * float(value / top_value)

    def points(values: list[Decimal]) -> str:
        return " ".join(
            f"{_coord(x(i))},{_coord(y(v))}" for i, v in enumerate([Decimal(0), *values])
        )

    used = [m.used_to_date for m in months if m.used_to_date is not None]
    quota = [m.quota_to_date for m in months]
    parts: list[str] = []
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts.append(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="system-ui, sans-serif" font-size="14" class="usage-chart">'
    )
    parts.append(f'<title id="{title_id}">{escape(title)}</title>')
    parts.append(f'<desc id="{desc_id}">{escape(_describe(months, awarded, unit))}</desc>')
    parts.append(f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>')

    # The value axis: grid lines and labels.
    parts.append('<g class="y-axis">')
    value = Decimal(0)
    while value <= top_value:
        level = _coord(y(value))
        parts.append(
            f'<line x1="{LEFT}" y1="{level}" x2="{RIGHT}" y2="{level}" stroke="{GRID}" '
            f'stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 8}" y="{level}" text-anchor="end" dominant-baseline="middle" '
            f'fill="{INK}">{escape(format_amount(value))}</text>'
        )
        value += step
    parts.append(
        f'<text x="16" y="{(TOP + BOTTOM) / 2:.1f}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 16 {(TOP + BOTTOM) / 2:.1f})">{escape(unit)}</text>'
    )
    parts.append("</g>")

    # The time axis: one label per month, thinned so that they do not overlap.
    parts.append('<g class="x-axis">')
    parts.append(
        f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="{INK}" '
        f'stroke-width="1"/>'
    )
    every = max(1, -(-n // 6))  # at most about six labels: room for "May 27" at 14 px
    for i, month in enumerate(months):
        if i % every:
            continue
        centre = _coord((x(i) + x(i + 1)) / 2)
        parts.append(
            f'<text x="{centre}" y="{BOTTOM + 18}" text-anchor="middle" fill="{INK}">'
            f"{escape(dateformat.format(month.month, 'M y'))}</text>"
        )
    parts.append("</g>")

    # The series.
    award_level = _coord(y(awarded))
    parts.append(
        f'<line class="series-award" x1="{LEFT}" y1="{award_level}" x2="{RIGHT}" '
        f'y2="{award_level}" stroke="{AWARD_COLOUR}" stroke-width="2" stroke-dasharray="2 4"/>'
    )
    parts.append(
        f'<polyline class="series-quota" points="{points(quota)}" fill="none" '
        f'stroke="{QUOTA_COLOUR}" stroke-width="2" stroke-dasharray="8 4"/>'
    )
    if used:
        parts.append(
            f'<polyline class="series-used" points="{points(used)}" fill="none" '
            f'stroke="{USE_COLOUR}" stroke-width="3"/>'
        )

    # The legend, below the axis.
    legend = [
        (_("Used, cumulative"), USE_COLOUR, "3", ""),
        (_("Monthly quotas, cumulative"), QUOTA_COLOUR, "2", "8 4"),
        (_("Award"), AWARD_COLOUR, "2", "2 4"),
    ]
    parts.append('<g class="legend">')
    for k, (label, colour, width, dash) in enumerate(legend):
        # One entry a line, so that a longer translation never runs into the next one.
        left = LEFT
        row = BOTTOM + 44 + k * 20
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{left}" y1="{row}" x2="{left + 28}" y2="{row}" stroke="{colour}" '
            f'stroke-width="{width}"{dash_attr}/>'
        )
        parts.append(
            f'<text x="{left + 34}" y="{row}" dominant-baseline="middle" fill="{INK}">'
            f"{escape(label)}</text>"
        )
    parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _describe(months: list[ChartMonth], awarded: Decimal, unit: str) -> str:
    """The chart in one sentence or two, for screen readers."""
    values = {"awarded": format_amount(awarded), "unit": unit}
    if not months:
        return _("Award: %(awarded)s %(unit)s.") % values
    text = _("From %(first)s to %(last)s. Award: %(awarded)s %(unit)s.") % {
        **values,
        "first": dateformat.format(months[0].month, "F Y"),
        "last": dateformat.format(months[-1].month, "F Y"),
    }
    done = [m for m in months if m.used_to_date is not None]
    if done:
        latest = done[-1]
        text += " " + _(
            "Used by the end of %(month)s: %(used)s %(unit)s, against quotas of %(quota)s "
            "%(unit)s up to then."
        ) % {
            **values,
            "month": dateformat.format(latest.month, "F Y"),
            "used": format_amount(latest.used_to_date),
            "quota": format_amount(latest.quota_to_date),
        }
    else:
        text += " " + _("Nothing used yet: the period has not started.")
    return text


def series_from_quota(months: list[Month]) -> list[ChartMonth]:
    """The chart's series from the quota's months (``allocations.quota.Month``): the quotas
    (each month's share) and the use summed month by month; no use for months to come."""
    series: list[ChartMonth] = []
    quota_total = used_total = Decimal(0)
    for month in months:
        quota_total += month.share
        used_total += month.used
        future = month.time == MonthTime.FUTURE
        series.append(ChartMonth(month.month, quota_total, None if future else used_total))
    return series
