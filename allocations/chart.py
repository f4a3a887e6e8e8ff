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


@dataclass(frozen=True)
class PlotScale:
    """Where values and months fall in the plot area: ``months`` columns, values from 0 to
    ``top`` in ``step``s."""

    months: int
    top: Decimal
    step: Decimal

    def x(self, index: int) -> float:
        return LEFT + (RIGHT - LEFT) * index / self.months

    def y(self, value: Decimal) -> float:
        return BOTTOM - (BOTTOM - TOP) * float(value / self.top)

    def points(self, values: list[Decimal]) -> str:
        """A polyline from 0 through ``values``, one a month."""
        return " ".join(
            f"{_coord(self.x(i))},{_coord(self.y(v))}" for i, v in enumerate([Decimal(0), *values])
        )


def plot_scale(months: list[ChartMonth], awarded: Decimal) -> PlotScale:
    """A scale whose round steps reach the highest of the award, the quotas and the use."""
    highest = max(
        [awarded, *(m.quota_to_date for m in months)]
        + [m.used_to_date for m in months if m.used_to_date is not None]
    )
    step = nice_step(highest)
    top_value = step * TICKS
    while top_value < highest:  # only when rounding left the top short
        top_value += step
    return PlotScale(months=max(len(months), 1), top=top_value, step=step)


@dataclass(frozen=True)
class LegendEntry:
    """One line of the legend, drawn as its series is."""

    label: str
    colour: str
    width: str
    dash: str


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
    scale = plot_scale(months, awarded)
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="system-ui, sans-serif" font-size="14" class="usage-chart">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(_describe(months, awarded, unit))}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        *_value_axis(scale, unit),
        *_time_axis(scale, months),
        *_series(scale, months, awarded),
        *_legend(),
        "</svg>",
    ]
    return "".join(parts)


def _value_axis(scale: PlotScale, unit: str) -> list[str]:
    """Grid lines and labels of the values, and the unit."""
    parts = ['<g class="y-axis">']
    value = Decimal(0)
    while value <= scale.top:
        level = _coord(scale.y(value))
        parts.append(
            f'<line x1="{LEFT}" y1="{level}" x2="{RIGHT}" y2="{level}" stroke="{GRID}" '
            f'stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 8}" y="{level}" text-anchor="end" dominant-baseline="middle" '
            f'fill="{INK}">{escape(format_amount(value))}</text>'
        )
        value += scale.step
    parts.append(
        f'<text x="16" y="{(TOP + BOTTOM) / 2:.1f}" text-anchor="middle" fill="{INK}" '
        f'transform="rotate(-90 16 {(TOP + BOTTOM) / 2:.1f})">{escape(unit)}</text>'
    )
    parts.append("</g>")
    return parts


def _time_axis(scale: PlotScale, months: list[ChartMonth]) -> list[str]:
    """One label per month, thinned so that they do not overlap."""
    parts = [
        '<g class="x-axis">',
        f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="{INK}" '
        f'stroke-width="1"/>',
    ]
    every = max(1, -(-scale.months // 6))  # at most about six labels: room for "May 27" at 14 px
    for i, month in enumerate(months):
        if i % every:
            continue
        centre = _coord((scale.x(i) + scale.x(i + 1)) / 2)
        parts.append(
            f'<text x="{centre}" y="{BOTTOM + 18}" text-anchor="middle" fill="{INK}">'
            f"{escape(dateformat.format(month.month, 'M y'))}</text>"
        )
    parts.append("</g>")
    return parts


def _series(scale: PlotScale, months: list[ChartMonth], awarded: Decimal) -> list[str]:
    """The award (level), the cumulative quotas and, once the period has begun, the use."""
    used = [m.used_to_date for m in months if m.used_to_date is not None]
    quota = [m.quota_to_date for m in months]
    award_level = _coord(scale.y(awarded))
    parts = [
        f'<line class="series-award" x1="{LEFT}" y1="{award_level}" x2="{RIGHT}" '
        f'y2="{award_level}" stroke="{AWARD_COLOUR}" stroke-width="2" stroke-dasharray="2 4"/>',
        f'<polyline class="series-quota" points="{scale.points(quota)}" fill="none" '
        f'stroke="{QUOTA_COLOUR}" stroke-width="2" stroke-dasharray="8 4"/>',
    ]
    if used:
        parts.append(
            f'<polyline class="series-used" points="{scale.points(used)}" fill="none" '
            f'stroke="{USE_COLOUR}" stroke-width="3"/>'
        )
    return parts


def _legend() -> list[str]:
    """The legend, below the axis: one entry a line, so that a longer translation never runs
    into the next one."""
    entries = [
        LegendEntry(_("Used, cumulative"), USE_COLOUR, "3", ""),
        LegendEntry(_("Monthly quotas, cumulative"), QUOTA_COLOUR, "2", "8 4"),
        LegendEntry(_("Award"), AWARD_COLOUR, "2", "2 4"),
    ]
    parts = ['<g class="legend">']
    for k, entry in enumerate(entries):
        row = BOTTOM + 44 + k * 20
        dash_attr = f' stroke-dasharray="{entry.dash}"' if entry.dash else ""
        parts.append(
            f'<line x1="{LEFT}" y1="{row}" x2="{LEFT + 28}" y2="{row}" stroke="{entry.colour}" '
            f'stroke-width="{entry.width}"{dash_attr}/>'
        )
        parts.append(
            f'<text x="{LEFT + 34}" y="{row}" dominant-baseline="middle" fill="{INK}">'
            f"{escape(entry.label)}</text>"
        )
    parts.append("</g>")
    return parts


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
