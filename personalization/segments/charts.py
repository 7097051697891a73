"""The segment size chart: members per day as inline SVG with both axes labelled.

No script and nothing loaded from elsewhere; colours come from the admin's stylesheet (classes),
so the chart follows the light and dark themes.
"""

from datetime import date

from django.utils.html import format_html, format_html_join

from config.formatting import number

WIDTH, HEIGHT = 560, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 40  # room for the axes' labels
X_TICKS = 5


def _nice_top(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def size_history_svg(points: list[tuple[date, int]]) -> str:
    """A line chart of (day, size), oldest first: a y axis of members, an x axis of dates."""
    if not points:
        return "No sizes yet: compute_segments records one a day."
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)
    top = _nice_top(max(size for _, size in points))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return LEFT + (day - first).days / span * plot_w

    def y(size: float) -> float:
        return TOP + (1 - size / top) * plot_h

    line = " ".join(f"{x(day):.1f},{y(size):.1f}" for day, size in points)
    y_ticks = format_html_join(
        "",
        '<line class="grid" x1="{l}" x2="{r}" y1="{y}" y2="{y}"/>'
        '<text x="{tx}" y="{ty}" text-anchor="end">{label}</text>',
        (
            {"l": LEFT, "r": WIDTH - RIGHT, "y": f"{y(v):.1f}", "tx": LEFT - 6,
             "ty": f"{y(v) + 4:.1f}", "label": number(int(v))}
            for v in (0, top / 2, top)
        ),
    )  # fmt: skip
    days = sorted({first, last} | {points[len(points) * i // X_TICKS][0] for i in range(X_TICKS)})
    x_ticks = format_html_join(
        "",
        '<line class="axis" x1="{x}" x2="{x}" y1="{b}" y2="{b2}"/>'
        '<text x="{x}" y="{ty}" text-anchor="{anchor}">{label}</text>',
        (
            {"x": f"{x(d):.1f}", "b": TOP + plot_h, "b2": TOP + plot_h + 4,
             "ty": TOP + plot_h + 16, "label": d.strftime("%-d %b"),
             "anchor": "end" if d == last and d != first else "middle"}
            for d in days
        ),
    )  # fmt: skip
    dots = format_html_join(
        "", '<circle cx="{}" cy="{}" r="2.5"/>',
        ((f"{x(day):.1f}", f"{y(size):.1f}") for day, size in points[-30:]),
    )  # fmt: skip
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="tailor-size-chart" width="{w}" '
        'height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"><title>{label}</title>'
        '<g font-size="11">{y_ticks}{x_ticks}</g>'
        '<line class="axis" x1="{l}" x2="{r}" y1="{base}" y2="{base}"/>'
        '<line class="axis" x1="{l}" x2="{l}" y1="{t}" y2="{base}"/>'
        '<polyline class="series" points="{line}" fill="none" stroke-width="2"/>'
        '<g class="series-dots">{dots}</g>'
        '<text x="{mid}" y="{h_label}" font-size="11" text-anchor="middle">day</text>'
        '<text x="12" y="{mid_y}" font-size="11" text-anchor="middle" '
        'transform="rotate(-90 12 {mid_y})">members</text></svg>',
        w=WIDTH, h=HEIGHT, l=LEFT, r=WIDTH - RIGHT, t=TOP, base=TOP + plot_h, line=line,
        dots=dots, y_ticks=y_ticks, x_ticks=x_ticks, mid=LEFT + plot_w / 2, h_label=HEIGHT - 6,
        mid_y=TOP + plot_h / 2,
        label=f"Members per day from {first.isoformat()} to {last.isoformat()}: "
        f"{number(points[-1][1])} on the last day",
    )  # fmt: skip
