"""Small, dependency-free SVG charts rendered on the server: readable without JavaScript, accessible, escaped.

Every chart is an `<svg role="img">` with a `<title>` and `<desc>`; the page puts the table with the same numbers
next to it, which is the accessible equivalent. Values that are missing (no data) are drawn as "no data", never
as zero. All text passes through `_esc`, so names from the register cannot inject markup.
"""
import math
from dataclasses import dataclass
from xml.sax.saxutils import escape as _xml_escape

from markupsafe import Markup

from .boroughs import LONDON_BOROUGHS

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
# Colour-blind-safe series colours (Okabe–Ito); series also differ by dash pattern and marker shape.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
SERIES_DASHES = ("", "6 3", "2 3", "8 3 2 3")
NO_DATA_FILL = "#f1f1f1"
NO_DATA_STROKE = "#9a9a9a"
TEXT = "#212529"
MUTED = "#6c757d"
GRID = "#dee2e6"


def _esc(text) -> str:
    return _xml_escape(str(text), {'"': "&quot;", "'": "&#39;"})


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open_svg(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    cid = _esc(chart_id)
    opening = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" viewBox="0 0 {width} {height}" '
               f'width="{width}" height="{height}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
               f'font-family="{_esc(FONT)}" font-size="12" preserveAspectRatio="xMinYMin meet">')
    return [
        opening,
        f'<title id="{cid}-title">{_esc(title)}</title>',
        f'<desc id="{cid}-desc">{_esc(desc)}</desc>',
    ]


def _axis(value: float, integer: bool = False, max_ticks: int = 5) -> tuple[float, float]:
    """(top, step) for an axis reaching `value` in at most `max_ticks` round steps (1, 2, 2.5, 5 x 10^n; whole
    numbers for counts)."""
    raw = max(value, 0) / max_ticks
    if raw <= 0:
        return (4, 1) if integer else (1, 0.25)
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 2.5, 5, 10):
        step = multiple * magnitude
        if integer and (step < 1 or step != int(step)):
            continue
        if step >= raw:
            break
    return step * math.ceil(value / step - 1e-9), step


def _ticks(top: float, step: float) -> list[float]:
    return [step * i for i in range(int(round(top / step)) + 1)]


def _text_colour(fill: str) -> str:
    """Black or white, whichever reads better on `fill` (#rrggbb)."""
    r, g, b = (int(fill[i:i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "#000000" if luminance > 140 else "#ffffff"


def _legend(items: list[tuple[str, str, str]], x: int, y: int, max_width: int) -> tuple[list[str], int]:
    """Swatches with labels, wrapping onto new lines; items are (label, fill, dash). Returns (parts, height)."""
    parts = ['<g class="legend">']
    cx, cy = x, y
    for label, fill, dash in items:
        width = 22 + 7 * len(label) + 16
        if cx + width > x + max_width and cx > x:
            cx, cy = x, cy + 20
        if dash is None:
            parts.append(f'<rect x="{cx}" y="{cy}" width="14" height="14" fill="{fill}" stroke="{NO_DATA_STROKE}"/>')
        else:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<line x1="{cx}" y1="{cy + 7}" x2="{cx + 16}" y2="{cy + 7}" stroke="{fill}" '
                         f'stroke-width="3"{dash_attr}/>')
        parts.append(f'<text x="{cx + 20}" y="{cy + 11}" fill="{TEXT}">{_esc(label)}</text>')
        cx += width
    parts.append("</g>")
    return parts, cy - y + 20


def bar_chart(chart_id: str, title: str, desc: str, items, unit: str = "%", max_value: float | None = None,
              width: int = 640) -> Markup:
    """Horizontal bars. `items`: (label, value or None, value_text). None is drawn as "no data", not as zero."""
    items = list(items)
    label_width = min(260, 20 + 7 * max((len(str(label)) for label, _, _ in items), default=5))
    row, top = 26, 10
    height = top + row * max(len(items), 1) + 30
    plot_left, plot_right = label_width, width - 150
    values = [v for _, v, _ in items if v is not None]
    top_value, step = (max_value, max_value / 4) if max_value is not None else \
        _axis(max(values, default=0), integer=not unit)
    scale = (plot_right - plot_left) / top_value if top_value else 0
    parts = _open_svg(chart_id, title, desc, width, height)
    axis_y = top + row * max(len(items), 1)
    for tick in _ticks(top_value, step):
        x = plot_left + tick * scale
        parts.append(f'<line x1="{_num(x)}" y1="{top}" x2="{_num(x)}" y2="{axis_y}" stroke="{GRID}"/>')
        parts.append(f'<text x="{_num(x)}" y="{axis_y + 16}" text-anchor="middle" fill="{MUTED}">'
                     f'{_esc(_num(tick) + unit)}</text>')
    if not items:
        parts.append(f'<text x="{plot_left}" y="{top + 16}" fill="{MUTED}">No data</text>')
    for index, (label, value, value_text) in enumerate(items):
        y = top + index * row
        parts.append('<g class="bar">')
        parts.append(f'<title>{_esc(label)}: {_esc(value_text)}</title>')
        parts.append(f'<text x="{plot_left - 6}" y="{y + 17}" text-anchor="end" fill="{TEXT}">{_esc(label)}</text>')
        if value is None:
            parts.append(f'<rect x="{plot_left}" y="{y + 5}" width="40" height="16" fill="{NO_DATA_FILL}" '
                         f'stroke="{NO_DATA_STROKE}" stroke-dasharray="3 2"/>')
            parts.append(f'<text x="{plot_left + 46}" y="{y + 17}" fill="{MUTED}">{_esc(value_text or "no data")}'
                         "</text>")
        else:
            bar = max(value * scale, 1 if value else 0)
            parts.append(f'<rect x="{plot_left}" y="{y + 5}" width="{_num(bar)}" height="16" '
                         f'fill="{SERIES_COLOURS[0]}"/>')
            parts.append(f'<text x="{_num(plot_left + bar + 6)}" y="{y + 17}" fill="{TEXT}">{_esc(value_text)}'
                         "</text>")
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("\n".join(parts))


def stacked_bar_chart(chart_id: str, title: str, desc: str, categories, series, width: int = 720,
                      height: int = 260) -> Markup:
    """Vertical stacked bars, one per category (month). `series`: (name, [value per category])."""
    categories = list(categories)
    series = list(series)
    left, right, top = 48, 10, 10
    legend_parts, legend_height = _legend([(name, SERIES_COLOURS[i % len(SERIES_COLOURS)], None)
                                          for i, (name, _) in enumerate(series)], left, height - 18, width - left)
    total_height = height + legend_height
    bottom = height - 44
    totals = [sum((s[1][i] or 0) for s in series) for i in range(len(categories))]
    top_value, step = _axis(max(totals, default=0), integer=True)
    scale = (bottom - top) / top_value
    parts = _open_svg(chart_id, title, desc, width, total_height)
    for tick in _ticks(top_value, step):
        y = bottom - tick * scale
        parts.append(f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" fill="{MUTED}">{_num(tick)}</text>')
    slot = (width - left - right) / max(len(categories), 1)
    bar_width = max(4, min(40, slot * 0.7))
    for index, category in enumerate(categories):
        x = left + index * slot + (slot - bar_width) / 2
        y = bottom
        parts.append('<g class="bar">')
        breakdown = ", ".join(f"{name} {values[index] or 0}" for name, values in series)
        parts.append(f'<title>{_esc(category)}: {totals[index]} ({_esc(breakdown)})</title>')
        for s_index, (_, values) in enumerate(series):
            value = values[index] or 0
            if not value:
                continue
            h = value * scale
            y -= h
            parts.append(f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar_width)}" height="{_num(h)}" '
                         f'fill="{SERIES_COLOURS[s_index % len(SERIES_COLOURS)]}" stroke="#ffffff" '
                         'stroke-width="0.5"/>')
        if totals[index]:
            parts.append(f'<text x="{_num(x + bar_width / 2)}" y="{_num(y - 3)}" text-anchor="middle" '
                         f'font-size="10" fill="{TEXT}">{totals[index]}</text>')
        parts.append(f'<text x="{_num(x + bar_width / 2)}" y="{bottom + 14}" text-anchor="middle" font-size="10" '
                     f'fill="{TEXT}">{_esc(category)}</text>')
        parts.append("</g>")
    parts.extend(legend_parts)
    parts.append("</svg>")
    return Markup("\n".join(parts))


def line_chart(chart_id: str, title: str, desc: str, categories, series, unit: str = "%",
               max_value: float | None = None, width: int = 720, height: int = 260) -> Markup:
    """Lines over categories (months). `series`: (name, [value or None]); None leaves a gap, never a zero."""
    categories = list(categories)
    series = list(series)
    left, right, top = 48, 10, 10
    legend_parts, legend_height = _legend(
        [(name, SERIES_COLOURS[i % len(SERIES_COLOURS)], SERIES_DASHES[i % len(SERIES_DASHES)])
         for i, (name, _) in enumerate(series)], left, height - 18, width - left)
    total_height = height + legend_height
    bottom = height - 44
    values = [v for _, vs in series for v in vs if v is not None]
    top_value, step = (max_value, max_value / 4) if max_value is not None else _axis(max(values, default=0))
    scale = (bottom - top) / top_value if top_value else 0
    parts = _open_svg(chart_id, title, desc, width, total_height)
    for tick in _ticks(top_value, step):
        y = bottom - tick * scale
        parts.append(f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" fill="{MUTED}">'
                     f'{_esc(_num(tick) + unit)}</text>')
    slot = (width - left - right) / max(len(categories), 1)
    for index, category in enumerate(categories):
        x = left + index * slot + slot / 2
        parts.append(f'<text x="{_num(x)}" y="{bottom + 14}" text-anchor="middle" font-size="10" fill="{TEXT}">'
                     f'{_esc(category)}</text>')
    if not values:
        parts.append(f'<text x="{left + 10}" y="{top + 20}" fill="{MUTED}">No data in this period</text>')
    for s_index, (name, vals) in enumerate(series):
        colour = SERIES_COLOURS[s_index % len(SERIES_COLOURS)]
        dash = SERIES_DASHES[s_index % len(SERIES_DASHES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g class="series"><title>{_esc(name)}</title>')
        segment: list[str] = []
        points = []
        for index, value in enumerate(vals):
            if value is None:
                if len(segment) > 1:
                    parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}" '
                                 f'stroke-width="2"{dash_attr}/>')
                segment = []
                continue
            x = left + index * slot + slot / 2
            y = bottom - value * scale
            segment.append(f"{_num(x)},{_num(y)}")
            points.append((x, y, categories[index], value))
        if len(segment) > 1:
            parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}" '
                         f'stroke-width="2"{dash_attr}/>')
        for x, y, category, value in points:
            marker = (f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="{colour}">' if s_index % 2 == 0 else
                      f'<rect x="{_num(x - 3.5)}" y="{_num(y - 3.5)}" width="7" height="7" fill="{colour}">')
            closing = "</circle>" if s_index % 2 == 0 else "</rect>"
            parts.append(f"{marker}<title>{_esc(name)}, {_esc(category)}: {_esc(_num(value) + unit)}</title>"
                         f"{closing}")
        parts.append("</g>")
    parts.extend(legend_parts)
    parts.append("</svg>")
    return Markup("\n".join(parts))


@dataclass(frozen=True)
class ColourBin:
    upper: float  # values below this (the last bin takes everything left)
    colour: str
    label: str


# Sequential palettes (ColorBrewer): darker means more of the measure.
FAILURE_BINS = (ColourBin(5, "#fef0d9", "under 5%"), ColourBin(10, "#fdcc8a", "5–10%"),
                ColourBin(20, "#fc8d59", "10–20%"), ColourBin(30, "#e34a33", "20–30%"),
                ColourBin(float("inf"), "#b30000", "30% or more"))
COVERAGE_BINS = (ColourBin(20, "#f0f9e8", "under 20%"), ColourBin(40, "#bae4bc", "20–40%"),
                 ColourBin(60, "#7bccc4", "40–60%"), ColourBin(80, "#43a2ca", "60–80%"),
                 ColourBin(float("inf"), "#0868ac", "80% or more"))


def bin_colour(value: float, bins) -> str:
    for b in bins:
        if value < b.upper:
            return b.colour
    return bins[-1].colour


def tile_map(chart_id: str, title: str, desc: str, values: dict, bins=FAILURE_BINS, selected: str | None = None,
             tile: int = 62, gap: int = 4) -> Markup:
    """The square-tile map of the 33 London boroughs.

    `values`: borough code -> (value or None, text such as "15% (3 of 20)"). Boroughs missing from `values` or with
    None are drawn as "no data". Each tile carries a <title> with the borough's name and figure.
    """
    cols = max(b.col for b in LONDON_BOROUGHS) + 1
    rows = max(b.row for b in LONDON_BOROUGHS) + 1
    map_width = cols * (tile + gap)
    legend_items = [(b.label, b.colour, None) for b in bins] + [("no data", NO_DATA_FILL, None)]
    legend_parts, legend_height = _legend(legend_items, 0, rows * (tile + gap) + 8, map_width)
    height = rows * (tile + gap) + 8 + legend_height
    parts = _open_svg(chart_id, title, desc, map_width, height)
    for borough in LONDON_BOROUGHS:
        value, text = values.get(borough.code, (None, ""))
        x = borough.col * (tile + gap)
        y = borough.row * (tile + gap)
        if value is None:
            fill, figure, text = NO_DATA_FILL, "no data", "no data"
        else:
            fill, figure = bin_colour(value, bins), f"{value:.0f}%"
        ink = _text_colour(fill)
        is_selected = borough.code == selected
        stroke = f' stroke="{TEXT}" stroke-width="3"' if is_selected else (
            f' stroke="{NO_DATA_STROKE}" stroke-dasharray="3 2"' if value is None else "")
        parts.append(f'<g class="tile" data-borough="{_esc(borough.code)}">')
        parts.append(f"<title>{_esc(borough.name)}: {_esc(text)}</title>")
        parts.append(f'<rect x="{x}" y="{y}" width="{tile}" height="{tile}" rx="3" fill="{fill}"{stroke}/>')
        parts.append(f'<text x="{x + tile / 2:g}" y="{y + tile / 2 - 4:g}" text-anchor="middle" font-weight="bold" '
                     f'font-size="13" fill="{ink}">{_esc(borough.abbr)}</text>')
        parts.append(f'<text x="{x + tile / 2:g}" y="{y + tile / 2 + 13:g}" text-anchor="middle" font-size="11" '
                     f'fill="{ink}">{_esc(figure)}</text>')
        parts.append("</g>")
    parts.extend(legend_parts)
    parts.append("</svg>")
    return Markup("\n".join(parts))
