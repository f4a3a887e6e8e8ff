"""A horizontal bar chart as SVG text rendered on the server (the statistics pages).

A pure function of labelled values, like the allocation's usage chart: no JavaScript, no
external files, presentation attributes only (the content security policy forbids inline
styles), ``<title>`` and ``<desc>`` for screen readers; the page beside it shows the same
numbers as a table.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape

from accounts.formatting import amount

WIDTH = 640
BAR_HEIGHT, GAP, TOP = 22, 8, 8
LABEL_WIDTH, VALUE_WIDTH = 250, 90
BAR_COLOUR = "#1f5fa8"
MARK_COLOUR = "#a34700"
INK = "#1b2430"


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def render_bar_chart(
    bars: list[Bar],
    *,
    title: str,
    description: str,
    id_prefix: str,
    suffix: str = "",
    mark: Decimal | None = None,
) -> str:
    """One bar per entry, longest value full width; ``mark`` draws a dashed line at that value
    (e.g. 1.00 for a budget fully asked for). Values are shown at the end of each bar."""
    top = max([bar.value for bar in bars] + [mark or Decimal(0), Decimal(0)])
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = TOP * 2 + len(bars) * (BAR_HEIGHT + GAP)
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-labelledby="{title_id} {desc_id}" font-family="system-ui, sans-serif" '
        f'font-size="12" class="bar-chart">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    for index, bar in enumerate(bars):
        y = TOP + index * (BAR_HEIGHT + GAP)
        length = float(bar.value / top) * plot if top > 0 else 0.0
        middle = y + BAR_HEIGHT / 2 + 4
        parts += [
            f'<text x="{LABEL_WIDTH - 8}" y="{middle:.1f}" text-anchor="end" fill="{INK}">'
            f"{escape(_short(bar.label))}</text>",
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{BAR_COLOUR}"/>',
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{middle:.1f}" fill="{INK}">'
            f"{escape(amount(bar.value))}{escape(suffix)}</text>",
        ]
    if mark is not None and top > 0:
        x = LABEL_WIDTH + float(mark / top) * plot
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height}" stroke="{MARK_COLOUR}" '
            f'stroke-width="2" stroke-dasharray="6 4"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
