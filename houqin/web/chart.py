"""A small line chart as inline SVG: no JavaScript library, readable on a phone, prints well.

The SVG scales with its container (``viewBox``); text carries its own ``font-family`` because
inline SVG does not always inherit the page's CJK font.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

FONT = "Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]
    color: str


def _nice_max(value: int) -> int:
    """A round top for the y axis: 1, 2, 5, 10, 20, 50, ..."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if value <= step * m:
                return step * m
        step *= 10


def line_chart(
    days: Sequence[date],
    series: Sequence[Series],
    *,
    title: str,
    width: int = 420,
    height: int = 240,
) -> Markup:
    left, right, top, bottom = 34, 10, 34, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max([1, *(max(s.values, default=0) for s in series)]))
    n = max(len(days) - 1, 1)

    def x(i: int) -> float:
        return left + plot_w * i / n

    def y(v: int) -> float:
        return top + plot_h * (1 - v / top_value)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'class="chart" font-family="{FONT}" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for frac in (0, 0.5, 1):
        v = round(top_value * frac)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="#ddd" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#666">{v}</text>'
        )
    if days:
        for i in sorted({0, len(days) // 2, len(days) - 1}):
            anchor = "start" if i == 0 else "end" if i == len(days) - 1 else "middle"
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="{anchor}" fill="#666">'
                f"{days[i]:%m-%d}</text>"
            )
    legend_x = left
    for s in series:
        parts.append(
            f'<rect x="{legend_x}" y="10" width="14" height="4" fill="{s.color}"/>'
            f'<text x="{legend_x + 18}" y="16" fill="#333">{escape(s.label)}</text>'
        )
        legend_x += 18 + 12 * len(s.label) + 14
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(s.values))
        if points:
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{s.color}" stroke-width="2.5" '
                f'stroke-linejoin="round"><title>{escape(s.label)}: {s.values[-1]}</title>'
                "</polyline>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
