"""Server-side SVG charts of experiment results (matplotlib, nothing loaded from elsewhere)."""

from __future__ import annotations

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

from django.utils.html import format_html
from matplotlib.dates import DateFormatter, DayLocator
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter, StrMethodFormatter

from experiments.series import SeriesPoint

COLOURS = ["#417690", "#e0862d", "#3a9a5b", "#b34b9c", "#8c6d31", "#5f6f7f"]


def series_svg(
    series: dict[str, list[SeriesPoint]], *, title: str = "", money: bool = False
) -> str:
    """Cumulative rate (or, `money`, revenue per visitor) per variation with its 95 % band, as
    an inline <svg> element."""
    figure = Figure(figsize=(8, 3.2), dpi=100)
    axes = figure.add_subplot()
    for index, (key, points) in enumerate(series.items()):
        if not points:
            continue
        colour = COLOURS[index % len(COLOURS)]
        days = [p.day for p in points]
        axes.fill_between(
            days, [p.low for p in points], [p.high for p in points], color=colour, alpha=0.18,
            linewidth=0,
        )  # fmt: skip
        axes.plot(days, [p.mean for p in points], color=colour, linewidth=2, label=key, marker=".")
    axes.yaxis.set_major_formatter(
        StrMethodFormatter("{x:,.2f}") if money else PercentFormatter(1.0)
    )
    days = sorted({p.day for points in series.values() for p in points})
    span = (days[-1] - days[0]).days if days else 0
    axes.xaxis.set_major_locator(DayLocator(interval=max(1, span // 8 + 1)))  # whole days only
    axes.xaxis.set_major_formatter(DateFormatter("%d %b"))
    axes.set_ylabel("cumulative revenue per visitor" if money else "cumulative rate")
    axes.grid(alpha=0.3)
    if title:
        axes.set_title(title, fontsize=10)
    if any(series.values()):
        axes.legend(loc="upper left", fontsize=8, frameon=False)
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tailor"}):
        figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    # Inline in HTML: drop the XML prolog and doctype, keep the <svg> element.
    svg = svg[svg.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)


def svg_image(svg: str, *, alt: str) -> str:
    """The SVG as an `<img>`, which the Content-Security-Policy allows.

    Inline in the page, matplotlib's style attributes and <style> element would be refused.
    """
    encoded = base64.b64encode(svg.encode()).decode("ascii")
    return format_html('<img src="data:image/svg+xml;base64,{}" alt="{}">', encoded, alt)
