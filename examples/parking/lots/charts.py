"""Tiny server-side SVG charts (line and stacked bars): no JavaScript, no CDN, accessible.

Each chart is an ``<svg role="img">`` with a title and a description that states the
numbers in words, so screen readers get what the picture shows. Input values are plain
numbers; every text is escaped here. This module never queries the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

__all__ = ["Series", "bar_chart", "line_chart"]

WIDTH, HEIGHT = 360, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 44


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5):
        for scale in (1, 10, 100, 1000, 10000, 100000):
            if step * scale >= value:
                return float(step * scale)
    return float(value)


def _x(i: int, n: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    return LEFT + (inner * (i + 0.5) / n if n else 0)


def _y(value: float, top: float) -> float:
    inner = HEIGHT - TOP - BOTTOM
    return TOP + inner * (1 - value / top)


def _frame(labels: Sequence[str], top: float, unit: str) -> list[str]:
    parts = []
    for k in range(5):
        value = top * k / 4
        y = _y(value, top)
        text = f"{value:g}{unit}"
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" class="tick" text-anchor="end">{escape(text)}</text>'
        )
    n = len(labels)
    every = max(1, -(-n // 6))
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text x="{_x(i, n):.1f}" y="{HEIGHT - BOTTOM + 14}" class="tick" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], LEFT
    for s in series:
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 16}" width="10" height="10" rx="2" fill="{escape(s.color)}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 7}" class="legend">{escape(s.name)}</text>'
        )
        x += 24 + 7 * len(s.name)
    return parts


def _svg(title: str, desc: str, body: list[str]) -> SafeString:
    return mark_safe(  # every interpolated text above and below is escaped
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>{''.join(body)}</svg>"
    )


def _empty(title: str, message: str) -> SafeString:
    body = [
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{HEIGHT - TOP - BOTTOM}" '
        'class="empty" rx="8"/>',
        f'<text x="{WIDTH / 2}" y="{(HEIGHT - BOTTOM + TOP) / 2 + 4}" class="empty-text" '
        f'text-anchor="middle">{escape(message)}</text>',
    ]
    return _svg(title, message, body)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    top: float | None = None,
    empty_message: str = "No data yet",
) -> SafeString:
    """Lines over time buckets; ``None`` values leave a gap."""
    values = [v for s in series for v in s.values if v is not None]
    if not values:
        return _empty(title, empty_message)
    top = top if top is not None else _nice_max(max(values) * 1.1)
    body = _frame(labels, top, unit)
    n = len(labels)
    for s in series:
        runs: list[list[str]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                runs.append([])
                continue
            x, y = _x(i, n), _y(min(v, top), top)
            runs[-1].append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{escape(s.color)}"/>')
        for run in runs:
            if len(run) > 1:
                body.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{escape(s.color)}" '
                    'stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>'
                )
    body += _legend(series)
    return _svg(title, _describe(labels, series, unit), body)


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    empty_message: str = "Nothing to show",
) -> SafeString:
    """Stacked bars per time bucket."""
    n = len(labels)
    totals = [sum((s.values[i] or 0) for s in series) for i in range(n)]
    if not any(totals):
        return _empty(title, empty_message)
    top = max(4.0, _nice_max(max(totals)))  # counts: keep the four gridlines on whole numbers
    body = _frame(labels, top, unit)
    width = max(2.0, (WIDTH - LEFT - RIGHT) / max(n, 1) * 0.7)
    for i in range(n):
        base = 0.0
        for s in series:
            v = s.values[i] or 0
            if not v:
                continue
            y_top, y_base = _y(base + v, top), _y(base, top)
            body.append(
                f'<rect x="{_x(i, n) - width / 2:.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                f'height="{y_base - y_top:.1f}" fill="{escape(s.color)}"><title>'
                f"{escape(labels[i])}: {escape(s.name)} {v:g}{escape(unit)}</title></rect>"
            )
            base += v
    body += _legend(series)
    return _svg(title, _describe(labels, series, unit), body)


def _describe(labels: Sequence[str], series: Sequence[Series], unit: str) -> str:
    parts = []
    for s in series:
        points = [
            f"{label} {v:g}{unit}"
            for label, v in zip(labels, s.values, strict=False)
            if v is not None
        ]
        parts.append(f"{s.name}: " + (", ".join(points) if points else "no data"))
    return "; ".join(parts)
