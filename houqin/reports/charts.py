"""Charts as inline SVG with Chinese labels (matplotlib, no pyplot, no global state).

Text stays text in the SVG (``svg.fonttype: none``) so it is selectable in the PDF and drawn
by WeasyPrint in Noto Sans CJK SC; without the font matplotlib draws boxes for Chinese.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from houqin.reports.fonts import FONT, matplotlib_cjk_font  # noqa: E402

RC: Any = {  # Any: matplotlib types the keys as a Literal of every rc name
    "font.family": "sans-serif",
    "font.sans-serif": [FONT, "DejaVu Sans"],
    "svg.fonttype": "none",
    "svg.hashsalt": "houqin",  # stable ids: the same report renders the same SVG
    "axes.unicode_minus": False,
    "font.size": 9,
}
COLORS = {
    "done_on_time": "#4caf50",
    "done_late": "#ff9800",
    "open_overdue": "#e53935",
    "open": "#b0bec5",
    "waived": "#90caf9",
}


def stacked_hbars(
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    colors: Sequence[str],
    xlabel: str,
) -> str:
    """One horizontal bar per category, stacked by series (e.g. phases by item status)."""
    height = 0.9 + 0.35 * max(len(categories), 1)
    matplotlib_cjk_font()
    with rc_context(RC):
        fig = Figure(figsize=(6.4, height))
        ax = fig.add_subplot()
        left = [0.0] * len(categories)
        ypos = list(range(len(categories)))
        for (name, values), color in zip(series.items(), colors, strict=True):
            ax.barh(ypos, values, left=left, color=color, label=name, height=0.6)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(ypos, labels=list(categories))
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(series), frameon=False)
        _tidy(ax)
        return _svg(fig)


def grouped_bars(
    categories: Sequence[str],
    series: Mapping[str, Sequence[int | float]],
    colors: Sequence[str],
    ylabel: str,
) -> str:
    """Bars side by side per category (e.g. lateness buckets for done and open items)."""
    n = max(len(series), 1)
    width = 0.8 / n
    matplotlib_cjk_font()
    with rc_context(RC):
        fig = Figure(figsize=(6.4, 2.6))
        ax = fig.add_subplot()
        for i, ((name, values), color) in enumerate(zip(series.items(), colors, strict=True)):
            xs = [x + (i - (n - 1) / 2) * width for x in range(len(categories))]
            ax.bar(xs, values, width=width, color=color, label=name)
        ax.set_xticks(range(len(categories)), labels=list(categories))
        ax.set_ylabel(ylabel)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(frameon=False)
        _tidy(ax)
        return _svg(fig)


def _tidy(ax) -> None:  # type: ignore[no-untyped-def]
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _svg(fig: Figure) -> str:
    """The figure as an <svg> element to inline in HTML (no XML prolog, the font named)."""
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # Inline SVG does not inherit the page's font in WeasyPrint: name it on the element.
    return re.sub(r"^<svg ", f'<svg font-family="{FONT}" ', text, count=1)
