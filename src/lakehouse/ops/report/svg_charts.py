"""Small inline SVG charts for pages that must open offline: no script, no fonts or files fetched.
Each mark carries ``data-series``, ``data-x`` and ``data-value``, so a test can read what is drawn,
and a ``<title>``, which browsers show on hover."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 48
PALETTE = ("#3366aa", "#2e8b57", "#c0504d", "#8064a2", "#d08c00", "#4bacc6")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    """One per x label; ``None`` where there is nothing to draw."""


def _plot_height() -> int:
    return HEIGHT - TOP - BOTTOM


def _y(value: float, top: float) -> float:
    return TOP + _plot_height() * (1 - value / top) if top else TOP + _plot_height()


def _y_range(value: float, low: float, high: float) -> float:
    return TOP + _plot_height() * (1 - (value - low) / (high - low))


def nice_ceiling(value: float) -> float:
    """The axis top: 1, 2 or 5 times a power of ten, at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _raw(value: float) -> str:
    """A value as a test reads it back: exact, never in exponent notation."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _number(value: float, percent: bool) -> str:
    return f"{value:.1%}" if percent else f"{value:,.0f}"


def _frame(title: str, body: list[str], x_labels: Sequence[str], slot: float, legend: Sequence[str]) -> str:
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        *body,
    ]
    for index, label in enumerate(x_labels):
        x = LEFT + slot * (index + 0.5)
        parts.append(f'<text class="x-label" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}">{escape(label)}</text>')
    x = LEFT
    for index, name in enumerate(legend):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{HEIGHT - 18}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text class="legend" x="{x + 14}" y="{HEIGHT - 9}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    parts.append("</svg>")
    return "\n".join(parts)


def _grid(ticks: Sequence[tuple[float, str]]) -> list[str]:
    lines = []
    for y, label in ticks:
        lines.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        lines.append(f'<text class="y-label" x="{LEFT - 6}" y="{y + 4:.1f}">{escape(label)}</text>')
    return lines


def bar_chart(title: str, x_labels: Sequence[str], series: Sequence[Series]) -> str:
    """Grouped bars: one group per x label, one bar per series."""
    top = nice_ceiling(max((v for s in series for v in s.values if v is not None), default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(len(x_labels), 1)
    bar = slot * 0.8 / max(len(series), 1)
    body = _grid([(_y(top * f, top), _number(top * f, False)) for f in (0, 0.25, 0.5, 0.75, 1)])
    for index, label in enumerate(x_labels):
        for number, line in enumerate(series):
            value = line.values[index]
            if value is None:
                continue
            x = LEFT + slot * index + slot * 0.1 + bar * number
            y = _y(value, top)
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{TOP + _plot_height() - y:.1f}" '
                f'fill="{PALETTE[number % len(PALETTE)]}" data-series="{escape(line.name)}" data-x="{escape(label)}" '
                f'data-value="{_raw(value)}"><title>{escape(line.name)} {escape(label)}: '
                f"{_number(value, False)}</title></rect>"
            )
    return _frame(title, body, x_labels, slot, [s.name for s in series])


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    threshold: float | None = None,
    percent: bool = False,
) -> str:
    """Lines with a dot per value, and a dashed line at ``threshold``. With ``percent``, values are
    fractions and the axis spans just below the lowest value (or threshold) to 100 %, so that a drop
    of a fraction of a percent still shows."""
    values = [v for s in series for v in s.values if v is not None] + ([threshold] if threshold is not None else [])
    if percent:
        high = 1.0
        low = max(0.0, min(values, default=1.0) - 0.02)
        low = (int(low * 100) // 2 * 2) / 100  # whole, even percentages read better on the axis
        if low >= high:
            low = high - 0.02
    else:
        low, high = 0.0, nice_ceiling(max(values, default=0))

    def y(value: float) -> float:
        return _y_range(value, low, high)

    slot = (WIDTH - LEFT - RIGHT) / max(len(x_labels), 1)
    body = _grid([(y(low + (high - low) * f), _number(low + (high - low) * f, percent)) for f in (0, 0.5, 1)])
    if threshold is not None:
        body.append(
            f'<line class="threshold" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
            f'data-value="{_raw(threshold)}"><title>threshold {_number(threshold, percent)}</title></line>'
        )
        body.append(
            f'<text class="threshold-label" x="{WIDTH - RIGHT}" y="{y(threshold) - 4:.1f}">'
            f"min {_number(threshold, percent)}</text>"
        )
    for number, line in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = [
            (LEFT + slot * (index + 0.5), y(value), label, value)
            for index, (label, value) in enumerate(zip(x_labels, line.values, strict=True))
            if value is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
            body.append(f'<polyline class="line" fill="none" stroke="{colour}" points="{path}"/>')
        for px, py, label, value in points:
            body.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}" data-series="{escape(line.name)}" '
                f'data-x="{escape(label)}" data-value="{_raw(value)}"><title>{escape(line.name)} {escape(label)}: '
                f"{_number(value, percent)}</title></circle>"
            )
    return _frame(title, body, x_labels, slot, [s.name for s in series])
