"""Server-side SVG charts of the rollups (matplotlib), shown as `<img>` like experiment results."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from experiments.charts import COLOURS, svg_image

__all__ = ["line_chart"]


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tailor"}):
        figure.savefig(buffer, format="svg", transparent=True)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)


def line_chart(
    days: Sequence[date], series: dict[str, Sequence[float | None]], *, alt: str,
    percent: bool = False, ylabel: str = "",
) -> str:  # fmt: skip
    """One line per series over days, as an `<img>` (a gap where a value is None)."""
    figure = Figure(figsize=(6.4, 2.4), dpi=100)
    axes = figure.add_subplot()
    for index, (label, values) in enumerate(series.items()):
        ys = [float("nan") if v is None else v for v in values]
        axes.plot(days, ys, color=COLOURS[index % len(COLOURS)], linewidth=2, label=label)
    if percent:
        axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.xaxis.set_major_locator(AutoDateLocator(maxticks=8))
    axes.xaxis.set_major_formatter(DateFormatter("%d %b"))
    axes.set_ylabel(ylabel, color="#888888")
    axes.tick_params(colors="#888888")
    for spine in axes.spines.values():
        spine.set_color("#888888")
    axes.grid(alpha=0.3)
    axes.set_ylim(bottom=0)
    if len(series) > 1:
        axes.legend(loc="upper left", fontsize=8, frameon=False, labelcolor="#888888")
    figure.autofmt_xdate()
    figure.tight_layout()
    return svg_image(_svg(figure), alt=alt)
