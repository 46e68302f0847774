"""Charts as accessible SVG markup: pure functions from counts to a string, no JavaScript.

The pages' Content-Security-Policy forbids script and inline styles, so a chart is inline
``<svg>`` drawn with presentation attributes (``fill``, ``stroke``) and classes styled by
``static/charts.css``; never a ``style=`` attribute. Every chart is ``role="img"`` named by its
``<title>`` and described by its ``<desc>``, and every page shows the same numbers in a real
table beside it (the table, not the drawing, is what a screen reader reads). Series differ by
colour *and* by pattern, and each bar carries its total as text, so colour is never the only
cue. Every label passes through :func:`esc`: labels are data, and data may hold markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

#: (fill, pattern) per series, in order: dark fills (at least 3:1 against white and against
#: each other's neighbours, WCAG 1.4.11) with white strokes drawn over them as the pattern.
PALETTE: tuple[tuple[str, str], ...] = (
    ("#1f4e79", "solid"),
    ("#a0522d", "stripes"),
    ("#2e6b30", "dots"),
    ("#6a3d9a", "crosshatch"),
    ("#4d4d4d", "backslash"),
    ("#8b1a1a", "grid"),
    ("#005f6b", "stripes"),
    ("#7a5c00", "dots"),
)

#: Pattern tiles: the white marks drawn over a series' fill colour.
PATTERN_MARKS = {
    "solid": "",
    "stripes": '<path d="M0 8 L8 0" stroke="#fff" stroke-width="1.5"/>',
    "backslash": '<path d="M0 0 L8 8" stroke="#fff" stroke-width="1.5"/>',
    "dots": '<circle cx="4" cy="4" r="1.6" fill="#fff"/>',
    "crosshatch": ('<path d="M0 8 L8 0 M0 0 L8 8" stroke="#fff" stroke-width="1"/>'),
    "grid": '<path d="M4 0 V8 M0 4 H8" stroke="#fff" stroke-width="1"/>',
}

CHAR_WIDTH = 7.2  # px per character of the 13 px label font, near enough to size columns
ROW_HEIGHT = 26
BAR_HEIGHT = 18
PLOT_WIDTH = 480
MAX_LABEL_CHARS = 42


def esc(text: object) -> str:
    """Text for SVG/HTML content or an attribute value: every markup character escaped."""
    return escape(str(text), quote=True)


def clip(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class Series:
    key: str
    label: str


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    href: str | None = None


@dataclass
class ChartData:
    """Counts by category (a bar) and series (a segment of the bar)."""

    categories: list[Category] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def count(self, category: str, series: str) -> int:
        return self.counts.get((category, series), 0)

    def total(self, category: str) -> int:
        return sum(self.count(category, s.key) for s in self.series)

    def rows(self) -> list[dict]:
        """One record per non-zero (category, series) count: what CSV and JSON carry."""
        return [{"category": c.key, "categoryLabel": c.label, "series": s.key,
                 "seriesLabel": s.label, "count": self.count(c.key, s.key)}
                for c in self.categories for s in self.series if self.count(c.key, s.key)]


def pattern_defs(prefix: str, count: int) -> str:
    """``<pattern>`` definitions for the first ``count`` series, ids under ``prefix``."""
    parts = []
    for i, (colour, kind) in enumerate(PALETTE[:count]):
        parts.append(f'<pattern id="{prefix}-p{i}" width="8" height="8" '
                     f'patternUnits="userSpaceOnUse"><rect width="8" height="8" '
                     f'fill="{colour}"/>{PATTERN_MARKS[kind]}</pattern>')
    return "<defs>" + "".join(parts) + "</defs>"


def fill_of(prefix: str, index: int) -> str:
    return f"url(#{prefix}-p{index % len(PALETTE)})"


def legend(prefix: str, series: list[Series], y: float, x: float = 0) -> tuple[str, float]:
    """A legend row per series (swatch with the series' pattern, then its name)."""
    parts = []
    for i, s in enumerate(series):
        top = y + i * 20
        parts.append(f'<g class="legend-item"><rect x="{x}" y="{top}" width="14" height="14" '
                     f'fill="{fill_of(prefix, i)}" stroke="#1b1b1b" stroke-width="0.5"/>'
                     f'<text x="{x + 20}" y="{top + 11}">{esc(s.label)}</text></g>')
    return "".join(parts), y + len(series) * 20


def bar_chart(chart_id: str, title: str, description: str, data: ChartData) -> str:
    """Horizontal bars, one per category, stacked by series, each labelled with its total.

    ``chart_id`` must be unique on the page (it prefixes the pattern and title ids)."""
    label_chars = min(MAX_LABEL_CHARS, max((len(c.label) for c in data.categories),
                                           default=4))
    left = int(label_chars * CHAR_WIDTH) + 12
    totals = [data.total(c.key) for c in data.categories]
    biggest = max(totals, default=0) or 1
    scale = PLOT_WIDTH / biggest
    top = 8
    bars = []
    for row, (category, total) in enumerate(zip(data.categories, totals, strict=True)):
        y = top + row * ROW_HEIGHT
        label = esc(category.label)
        parts = [f'<g class="bar" data-category="{esc(category.key)}">',
                 f'<title>{label}: {total:,}</title>',
                 f'<text class="bar-label" x="{left - 8}" y="{y + 13}" text-anchor="end">'
                 f'{esc(clip(category.label))}</text>']
        x = float(left)
        for i, s in enumerate(data.series):
            n = data.count(category.key, s.key)
            if not n:
                continue
            width = n * scale
            parts.append(f'<rect class="segment" x="{x:.1f}" y="{y}" width="{width:.1f}" '
                         f'height="{BAR_HEIGHT}" fill="{fill_of(chart_id, i)}" '
                         f'data-series="{esc(s.key)}" data-count="{n}"/>')
            x += width
        parts.append(f'<text class="bar-total" x="{x + 6:.1f}" y="{y + 13}">{total:,}</text>')
        parts.append("</g>")
        bars.append("".join(parts))
    height = top + len(data.categories) * ROW_HEIGHT + 8
    legend_svg = ""
    if len(data.series) > 1:
        legend_svg, height = legend(chart_id, data.series, height + 8, x=left)
        height += 8
    width = left + PLOT_WIDTH + 60
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width} {height}" aria-labelledby="{chart_id}-title '
            f'{chart_id}-desc">'
            f'<title id="{chart_id}-title">{esc(title)}</title>'
            f'<desc id="{chart_id}-desc">{esc(description)}</desc>'
            f'{pattern_defs(chart_id, len(data.series))}'
            f'<line class="axis" x1="{left}" y1="{top - 4}" x2="{left}" '
            f'y2="{top + len(data.categories) * ROW_HEIGHT}" stroke="#1b1b1b"/>'
            + "".join(bars) + legend_svg + "</svg>")


@dataclass(frozen=True)
class Marker:
    """A labelled vertical mark at one column (e.g. the month a practice started)."""

    at: str
    label: str


def column_chart(chart_id: str, title: str, description: str, points: list[tuple[str, int]],
                 markers: list[Marker] = ()) -> str:
    """Vertical columns in order (months), with dashed, numbered markers at some columns.

    Markers are numbered 1, 2 … on the chart and listed under it with their labels, so the
    link between a mark and what it stands for is text, not position or colour alone."""
    plot_height, column = 220, max(6.0, min(28.0, 720 / max(len(points), 1)))
    left, top = 56, 28
    biggest = max((n for _, n in points), default=0) or 1
    width = left + column * len(points) + 20
    index = {key: i for i, (key, _) in enumerate(points)}
    parts = []
    for i, (key, n) in enumerate(points):
        h = n / biggest * plot_height
        x = left + i * column
        parts.append(f'<rect class="column" x="{x + 1:.1f}" y="{top + plot_height - h:.1f}" '
                     f'width="{column - 2:.1f}" height="{h:.1f}" fill="{PALETTE[0][0]}" '
                     f'data-month="{esc(key)}" data-count="{n}"><title>{esc(key)}: {n:,}'
                     f'</title></rect>')
    every = max(1, len(points) // 12)  # at most a dozen month labels on the axis
    for i, (key, _) in enumerate(points):
        if i % every == 0:
            x = left + i * column + column / 2
            parts.append(f'<text class="tick" x="{x:.1f}" y="{top + plot_height + 16}" '
                         f'text-anchor="middle">{esc(key)}</text>')
    for number, marker in enumerate(markers, 1):
        if marker.at not in index:
            continue
        x = left + index[marker.at] * column + column / 2
        parts.append(f'<g class="marker"><line x1="{x:.1f}" y1="{top - 12}" x2="{x:.1f}" '
                     f'y2="{top + plot_height}" stroke="#a0522d" stroke-width="2" '
                     f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{top - 14}">'
                     f'{number}</text><title>{esc(marker.label)}</title></g>')
    axis = (f'<line class="axis" x1="{left}" y1="{top + plot_height}" x2="{width - 10}" '
            f'y2="{top + plot_height}" stroke="#1b1b1b"/>'
            f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">'
            f'{biggest:,}</text><text class="tick" x="{left - 6}" y="{top + plot_height}" '
            f'text-anchor="end">0</text>')
    height = top + plot_height + 28
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width:.0f} {height}" aria-labelledby="{chart_id}-title '
            f'{chart_id}-desc"><title id="{chart_id}-title">{esc(title)}</title>'
            f'<desc id="{chart_id}-desc">{esc(description)}</desc>'
            + axis + "".join(parts) + "</svg>")
