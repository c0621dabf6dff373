"""Small SVG charts written as strings: no JavaScript library, nothing fetched at view time.

Every chart scales to its container (``viewBox``) and carries ``<title>`` tooltips, so the
exact value of any mark is one hover away.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Format = Callable[[float], str]

INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
BLUE = "#2563eb"
ORANGE = "#d97706"
GREEN = "#15803d"
RED = "#b91c1c"
AMBER = "#ca8a04"

FONT = 12


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + 1.0
    raw_step = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw_step))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw_step)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


@dataclass(frozen=True)
class Scale:
    """Linear map from a value domain to a pixel range."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low or 1.0
        return self.start + (value - self.low) / span * (self.end - self.start)


def svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="inherit" font-size="{FONT}">' + "".join(body) + "</svg>"
    )


def text(x: float, y: float, content: str, anchor: str = "middle", colour: str = MUTED,
         extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{colour}"{extra}>'
            f"{esc(content)}</text>")


def y_axis(scale: Scale, ticks: list[float], left: float, right: float, fmt: Format,
           side: str = "left", draw_grid: bool = True) -> list[str]:
    parts = []
    for tick in ticks:
        y = scale(tick)
        if draw_grid:
            parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="{GRID}"/>')
        if side == "left":
            parts.append(text(left - 6, y + 4, fmt(tick), "end"))
        else:
            parts.append(text(right + 6, y + 4, fmt(tick), "start"))
    return parts


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    colour: str
    dashed: bool = False


def line_chart(labels: Sequence[str], series: Sequence[Series], fmt: Format, label: str,
               width: int = 640, height: int = 260) -> str:
    """Lines over evenly spaced labels (months); None values break nothing, they are skipped."""
    left, right, top, bottom = 64, width - 16, 16, height - 40
    values = [v for s in series for v in s.values if v is not None]
    ticks = nice_ticks(min(0.0, *values), max(values)) if values else [0.0, 1.0]
    y = Scale(ticks[0], ticks[-1], bottom, top)
    step = (right - left) / max(1, len(labels) - 1)
    xs = [left + i * step for i in range(len(labels))] if len(labels) > 1 else [
        (left + right) / 2]
    body = y_axis(y, ticks, left, right, fmt)
    every = max(1, math.ceil(len(labels) / 10))
    for i, name in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            body.append(text(xs[i], bottom + 18, name))
    for s in series:
        points = [(xs[i], y(v)) for i, v in enumerate(s.values) if v is not None]
        if not points:
            continue
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{s.colour}" '
                    f'stroke-width="2.5"{dash}/>')
        if not s.dashed:
            for i, v in enumerate(s.values):
                if v is not None:
                    body.append(f'<circle cx="{xs[i]:.1f}" cy="{y(v):.1f}" r="3.5" '
                                f'fill="{s.colour}"><title>{esc(labels[i])}: '
                                f"{esc(fmt(v))}</title></circle>")
    body.append(legend([(s.name, s.colour, s.dashed) for s in series], left, height - 6))
    return svg(width, height, label, body)


def legend(items: Sequence[tuple[str, str, bool]], x: float, y: float) -> str:
    parts = []
    for name, colour, dashed in items:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        parts.append(f'<line x1="{x}" x2="{x + 22}" y1="{y - 4}" y2="{y - 4}" '
                     f'stroke="{colour}" stroke-width="3"{dash}/>')
        parts.append(text(x + 28, y, name, "start", INK))
        x += 40 + 7 * len(name)
    return "".join(parts)


def bars_with_second_axis(categories: Sequence[str], bar_values: Sequence[float],
                          bar_name: str, bar_fmt: Format, point_values: Sequence[float],
                          point_name: str, point_fmt: Format, label: str,
                          width: int = 640, height: int = 260) -> str:
    """Bars on the left axis and a marker per bar on the right axis (two units, one chart)."""
    left, right, top, bottom = 56, width - 72, 16, height - 44
    left_ticks = nice_ticks(0.0, max(bar_values, default=1.0) or 1.0)
    right_ticks = nice_ticks(0.0, max(point_values, default=1.0) or 1.0)
    y_left = Scale(left_ticks[0], left_ticks[-1], bottom, top)
    y_right = Scale(right_ticks[0], right_ticks[-1], bottom, top)
    body = y_axis(y_left, left_ticks, left, right, bar_fmt)
    body += y_axis(y_right, right_ticks, left, right, point_fmt, side="right", draw_grid=False)
    slot = (right - left) / max(1, len(categories))
    centres = []
    for i, (name, value) in enumerate(zip(categories, bar_values, strict=True)):
        x = left + i * slot + slot * 0.2
        centres.append(x + slot * 0.3)
        top_y = y_left(value)
        body.append(f'<rect x="{x:.1f}" y="{top_y:.1f}" width="{slot * 0.6:.1f}" '
                    f'height="{bottom - top_y:.1f}" fill="{BLUE}" data-category="{esc(name)}">'
                    f"<title>{esc(name)}: {esc(bar_fmt(value))} {esc(bar_name)}</title></rect>")
        body.append(text(x + slot * 0.3, top_y - 6, bar_fmt(value), colour=INK))
        body.append(text(x + slot * 0.3, bottom + 18, name, colour=INK))
    path = " ".join(f"{cx:.1f},{y_right(v):.1f}" for cx, v in zip(centres, point_values,
                                                                      strict=True))
    body.append(f'<polyline points="{path}" fill="none" stroke="{ORANGE}" stroke-width="2"/>')
    for cx, name, value in zip(centres, categories, point_values, strict=True):
        body.append(f'<rect x="{cx - 6:.1f}" y="{y_right(value) - 6:.1f}" width="12" '
                    f'height="12" fill="{ORANGE}" transform="rotate(45 {cx:.1f} '
                    f'{y_right(value):.1f})"><title>{esc(name)}: {esc(point_fmt(value))} '
                    f"{esc(point_name)}</title></rect>")
    body.append(legend([(bar_name + " (left axis, bars)", BLUE, False),
                        (point_name + " (right axis, diamonds)", ORANGE, False)],
                       left, height - 6))
    return svg(width, height, label, body)


def growth_bars(labels: Sequence[str], values: Sequence[float | None], title: str,
                label: str, width: int = 640, height: int = 170) -> str:
    """Diverging bars around zero, green for growth and red for decline, each labelled."""
    left, right, top, bottom = 56, width - 16, 24, height - 28
    known = [v for v in values if v is not None]
    extent = max((abs(v) for v in known), default=0.1) or 0.1
    ticks = nice_ticks(-extent, extent, 4)
    y = Scale(ticks[0], ticks[-1], bottom, top)
    body = [text(left, 14, title, "start", INK, ' font-weight="600"')]
    body += y_axis(y, ticks, left, right, lambda v: f"{v * 100:+.0f}%")
    zero = y(0.0)
    body.append(f'<line x1="{left}" x2="{right}" y1="{zero:.1f}" y2="{zero:.1f}" '
                f'stroke="{MUTED}"/>')
    slot = (right - left) / max(1, len(labels))
    every = max(1, math.ceil(len(labels) / 10))
    for i, (name, value) in enumerate(zip(labels, values, strict=True)):
        x = left + i * slot + slot * 0.15
        centre = x + slot * 0.35
        if i % every == 0 or i == len(labels) - 1:
            body.append(text(centre, height - 8, name))
        if value is None:
            body.append(text(centre, zero - 4, "n/a"))
            continue
        colour = GREEN if value >= 0 else RED
        bar_top, bar_bottom = sorted((y(value), zero))
        body.append(f'<rect x="{x:.1f}" y="{bar_top:.1f}" width="{slot * 0.7:.1f}" '
                    f'height="{max(1.0, bar_bottom - bar_top):.1f}" fill="{colour}">'
                    f"<title>{esc(name)}: {value * 100:+.1f}%</title></rect>")
        label_y = bar_top - 4 if value >= 0 else bar_bottom + 12
        if len(labels) <= 18:
            body.append(text(centre, label_y, f"{value * 100:+.0f}%", colour=colour,
                             extra=' font-size="10"'))
    return svg(width, height, label, body)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    name: str
    group: str
    radius: float
    colour: str
    detail: str


def scatter(points: Sequence[Point], x_name: str, y_name: str, y_fmt: Format,
            reference_x: float, reference_name: str, label: str,
            width: int = 640, height: int = 320) -> str:
    """Points on rating (x, 1–5) and revenue (y) with a vertical reference line."""
    left, right, top, bottom = 64, width - 16, 16, height - 44
    x = Scale(1.0, 5.0, left, right)
    y_ticks = nice_ticks(0.0, max((p.y for p in points), default=1.0) or 1.0)
    y = Scale(y_ticks[0], y_ticks[-1], bottom, top)
    body = y_axis(y, y_ticks, left, right, y_fmt)
    for tick in (1, 2, 3, 4, 5):
        body.append(text(x(tick), bottom + 16, f"{tick}"))
    body.append(text((left + right) / 2, bottom + 34, x_name, colour=INK))
    body.append(text(14, (top + bottom) / 2, y_name, colour=INK,
                     extra=f' transform="rotate(-90 14 {(top + bottom) / 2:.1f})"'))
    ref = x(reference_x)
    body.append(f'<rect x="{left}" y="{top}" width="{ref - left:.1f}" height="{bottom - top}" '
                f'fill="{RED}" fill-opacity="0.05"/>')
    body.append(f'<line x1="{ref:.1f}" x2="{ref:.1f}" y1="{top}" y2="{bottom}" stroke="{RED}" '
                f'stroke-dasharray="5 4" stroke-width="1.5"/>')
    body.append(text(ref + 4, top + 12, reference_name, "start", RED))
    for p in sorted(points, key=lambda p: -p.radius):
        body.append(f'<circle cx="{x(p.x):.1f}" cy="{y(p.y):.1f}" r="{p.radius:.1f}" '
                    f'fill="{p.colour}" fill-opacity="0.7" stroke="#fff" '
                    f'data-group="{esc(p.group)}"><title>{esc(p.name)}: {esc(p.detail)}'
                    "</title></circle>")
    return svg(width, height, label, body)


def horizontal_bars(rows: Sequence[tuple[str, float, str]], maximum: float, label: str,
                    highlight: str | None = None, width: int = 640) -> str:
    """One bar per row (name, value, shown text); the highlighted row is drawn darker."""
    row_height, left, right = 34, 150, width - 90
    height = row_height * len(rows) + 8
    body = []
    for i, (name, value, shown) in enumerate(rows):
        top = 4 + i * row_height
        length = (right - left) * (value / maximum if maximum else 0.0)
        colour = BLUE if name == highlight else "#93b4f5"
        body.append(text(left - 8, top + 19, name, "end", INK))
        body.append(f'<rect x="{left}" y="{top + 4}" width="{right - left}" height="22" '
                    f'fill="{GRID}"/>')
        body.append(f'<rect x="{left}" y="{top + 4}" width="{length:.1f}" height="22" '
                    f'fill="{colour}"><title>{esc(name)}: {esc(shown)}</title></rect>')
        body.append(text(right + 8, top + 19, shown, "start", INK))
    return svg(width, height, label, body)


def share_bar(parts: Sequence[tuple[str, float, str, str]], label: str,
              width: int = 640) -> str:
    """A 100% bar split by share (name, share, colour, shown text), labelled under it."""
    left, right = 8, width - 8
    height = 64 + 22 * len(parts)
    body = []
    x = float(left)
    for name, share, colour, shown in parts:
        length = (right - left) * share
        body.append(f'<rect x="{x:.1f}" y="8" width="{length:.1f}" height="40" '
                    f'fill="{colour}"><title>{esc(name)}: {esc(shown)}</title></rect>')
        if length > 44:
            body.append(text(x + length / 2, 33, f"{share * 100:.0f}%", colour="#fff",
                             extra=' font-weight="600"'))
        x += length
    for i, (name, _share, colour, shown) in enumerate(parts):
        y = 62 + 22 * i
        body.append(f'<rect x="{left}" y="{y}" width="14" height="14" fill="{colour}"/>')
        body.append(text(left + 22, y + 12, f"{name}: {shown}", "start", INK,
                         ' font-size="14"'))
    return svg(width, height, label, body)
