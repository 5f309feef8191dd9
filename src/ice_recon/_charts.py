"""Draw the report's charts with matplotlib's SVG backend, as inline ``<svg>`` text.

Why matplotlib and SVG: docs/explanation/report-charts.md. Every chart is drawn by the
``Agg``-free SVG backend into a string, with a fixed hash salt and no date in its metadata
(the same folder gives the same page), text kept as ``<text>`` (``svg.fonttype = none``)
and math text off (an identifier with ``$`` is shown as written, never parsed). The
element ids of each chart get the chart's own prefix, so that several charts can live in
one page without sharing a clip path.

Amounts are drawn from cents as floats: a chart's coordinates only, never a figure that
is written or added up (the tables beside each chart give the exact amounts).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any, Final

__all__ = ["Series", "bars", "require"]

#: One named series of values in cents (or counts), with its colour.
Series = tuple[str, Sequence[int], str]

_STYLE: Final = {
    "svg.fonttype": "none",
    "svg.hashsalt": "ice-recon",
    "text.parse_math": False,
    "font.size": 9,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
}

_ID: Final = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


def require() -> tuple[Any, Any]:
    """Import matplotlib with its SVG backend; return ``(matplotlib, pyplot-free Figure)``."""
    import matplotlib
    from matplotlib.figure import Figure

    return matplotlib, Figure


def _svg(fig: Any, prefix: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    return _ID.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)


def bars(
    prefix: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    money: bool = True,
    stacked: bool = False,
    horizontal: bool = True,
) -> str:
    """Return a bar chart of *series* over *labels* as SVG text.

    Values are cents when *money* (drawn in dollars), else counts. Grouped bars side by
    side, or *stacked* (negative parts below zero). Horizontal bars put the labels on the
    left, where long identifiers fit.
    """
    matplotlib, figure = require()
    n = max(len(labels), 1)
    with matplotlib.rc_context(_STYLE):
        if horizontal:
            height = 0.9 + 0.22 * n * (1 if stacked else max(len(series), 1) ** 0.5)
            fig = figure(figsize=(7.2, min(height, 14)), layout="constrained")
        else:
            fig = figure(figsize=(7.2, 3.2), layout="constrained")
        ax = fig.add_subplot()
        positions = list(range(len(labels)))
        scale = 100 if money else 1
        width = 0.8 if stacked else 0.8 / max(len(series), 1)
        below = [0.0] * len(labels)  # float-ok: chart coordinates
        above = [0.0] * len(labels)  # float-ok: chart coordinates
        for k, (name, values, colour) in enumerate(series):
            drawn = [v / scale for v in values]  # float-ok: chart coordinates
            if stacked:
                base = [below[i] if v < 0 else above[i] for i, v in enumerate(drawn)]
                where: list[float] = positions  # type: ignore[assignment]
                for i, v in enumerate(drawn):
                    if v < 0:
                        below[i] += v
                    else:
                        above[i] += v
            else:
                base = [0.0] * len(drawn)  # float-ok: chart coordinates
                where = [p - 0.4 + width * (k + 0.5) for p in positions]
            if horizontal:
                ax.barh(where, drawn, height=width, left=base, label=name, color=colour)
            else:
                ax.bar(where, drawn, width=width, bottom=base, label=name, color=colour)
        if horizontal:
            ax.set_yticks(positions, list(labels))
            ax.invert_yaxis()
            ax.axvline(0, color="#555", linewidth=0.6)
            ax.set_xlabel("USD" if money else "count")
        else:
            step = max(1, n // 24)  # at most about 24 labels under the bars
            ax.set_xticks(positions[::step], list(labels)[::step], rotation=45 if n > 6 else 0)
            ax.axhline(0, color="#555", linewidth=0.6)
            ax.set_ylabel("USD" if money else "count")
        ax.set_title(title, loc="left")
        if len(series) > 1:
            ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        return _svg(fig, prefix)
