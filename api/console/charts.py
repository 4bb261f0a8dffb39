"""Charts drawn on the server as SVG: horizontal bars (categories) and columns (a series over time, one or more
stacked). No script and no chart library: the page carries the picture, and the same figures in a table beside it.

Lengths across are percentages of the chart's width, so a chart fills a phone's screen or a wide one while its
text keeps its size. Each bar carries its figure as `data-value` (and its category as `data-label`), which the
browser tests compare with their own SQL. Each chart is an image with a title and a one-sentence description for
screen readers; the table next to it holds the details.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

ROW = 40  # height of one horizontal bar's row: label above, bar below
BAR_SPAN = 82.0  # % of the width the longest bar takes; the rest holds its value
PLOT = 160  # height of the columns' plot area
TOP, BOTTOM = 22, 38  # room above the columns (values) and below (labels)
MAX_LABELS = 12


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as shown, e.g. "12" or "92,5%"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]
    texts: Sequence[str]
    css: str = ""  # an extra class for its colour ("alt")


def _pct(x: float) -> str:
    return f"{x:.2f}%"


def _frame(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg class="chart" id="chart-{escape(chart_id)}" data-chart="{escape(chart_id)}" role="img" '
        f'aria-labelledby="chart-{escape(chart_id)}-t chart-{escape(chart_id)}-d" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="chart-{escape(chart_id)}-d">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def hbars(chart_id: str, title: str, bars: Sequence[Bar], *, desc: str, max_value: float | None = None) -> Markup:
    """One horizontal bar per category, longest for the largest value (or for `max_value`)."""
    top = max_value if max_value else max((b.value for b in bars), default=0) or 1
    body = []
    for i, bar in enumerate(bars):
        y = i * ROW
        width = BAR_SPAN * max(0.0, min(bar.value / top, 1.0))
        label, text = escape(bar.label), escape(bar.text)
        body.append(
            f'<g class="row" data-label="{label}" data-value="{bar.value:g}">'
            f'<text x="0" y="{y + 14}">{label}</text>'
            f'<rect class="bar" x="0" y="{y + 20}" width="{_pct(width)}" height="14">'
            f"<title>{label}: {text}</title></rect>"
            f'<text class="value" x="{_pct(width + 1)}" y="{y + 32}">{text}</text></g>'
        )
    return _frame(chart_id, title, desc, max(ROW * len(bars), ROW), body)


def columns(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    desc: str,
    max_value: float | None = None,
) -> Markup:
    """Columns over `labels` (months, days), the series stacked in each; values written on top when they fit."""
    n = max(len(labels), 1)
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    top = max_value if max_value else max(totals, default=0) or 1
    slot = 100.0 / n
    every = max(1, -(-n // MAX_LABELS))
    body = [
        f'<line class="grid" x1="0" x2="100%" y1="{TOP + PLOT * (1 - f)}" y2="{TOP + PLOT * (1 - f)}"/>'
        for f in (0.5, 1.0)
    ]
    body.append(f'<line class="axis" x1="0" x2="100%" y1="{TOP + PLOT}" y2="{TOP + PLOT}"/>')
    for i, label in enumerate(labels):
        x = slot * i + slot * 0.15
        base = float(TOP + PLOT)
        parts = [f'<g class="col" data-label="{escape(label)}" data-value="{totals[i]:g}">']
        for s in series:
            h = PLOT * max(0.0, min(s.values[i] / top, 1.0))
            base -= h
            tip = f"{escape(label)} · {escape(s.name)}: {escape(s.texts[i])}"
            parts.append(
                f'<rect class="bar {s.css}" data-series="{escape(s.name)}" data-value="{s.values[i]:g}" '
                f'x="{_pct(x)}" y="{base:.1f}" width="{_pct(slot * 0.7)}" height="{h:.1f}"><title>{tip}</title></rect>'
            )
        if n <= 16 and len(series) == 1:
            parts.append(
                f'<text class="value" x="{_pct(x + slot * 0.35)}" y="{base - 5:.1f}" text-anchor="middle">'
                f"{escape(series[0].texts[i])}</text>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{_pct(x + slot * 0.35)}" y="{TOP + PLOT + 18}" text-anchor="middle">{escape(label)}</text>'
            )
        body.append("".join(parts) + "</g>")
    return _frame(chart_id, title, desc, TOP + PLOT + BOTTOM, body)
