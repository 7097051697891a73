"""The calibration chart of a score run: predicted probability against the observed rate.

Rendered on the server with matplotlib as SVG and shown as an `<img>` of a data URL: the
site's Content-Security-Policy refuses the style attributes of an inline SVG.
"""

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")  # no display: render to files only

from django.utils.html import format_html
from matplotlib.figure import Figure

COLOURS = ["#417690", "#e0862d", "#3a9a5b", "#b34b9c"]


def calibration_svg(calibration: dict[str, list[list[float]]]) -> str:
    """One line per target of [mean predicted, observed rate] bins, and the diagonal."""
    figure = Figure(figsize=(4.8, 4.2), dpi=100)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1, label="perfect")
    for index, (target, points) in enumerate(calibration.items()):
        axes.plot(
            [p[0] for p in points], [p[1] for p in points], marker="o", linewidth=2,
            color=COLOURS[index % len(COLOURS)], label=target,
        )  # fmt: skip
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("predicted probability")
    axes.set_ylabel("observed rate (held-out window)")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8, frameon=False)
    figure.tight_layout()
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "tailor"}):
        figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)


def svg_image(svg: str, *, alt: str) -> str:
    """The SVG as an `<img>` of a data URL, which the Content-Security-Policy allows."""
    encoded = base64.b64encode(svg.encode()).decode("ascii")
    return format_html('<img src="data:image/svg+xml;base64,{}" alt="{}">', encoded, alt)
