"""Charts of the metrics page as inline SVG, drawn on the server (no script, nothing from a CDN).

Every label is escaped; the result is safe to put into a template as is.

>>> svg = bar_chart([("Mon", 3), ("Tue", 5)], title="Conversations per day")
>>> svg.startswith("<svg") and "<title>Tue: 5</title>" in svg
True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart", "share_bar"]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 1.0
    while step * 10 < value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return value


def bar_chart(points: Sequence[tuple[str, float]], *, title: str, width: int = 720, height: int = 220,
              css_class: str = "bars") -> Markup:
    """A vertical bar chart of labelled values (one bar per point, labels thinned to fit).

    Args:
        points: ``(label, value)`` in display order.
        title: the accessible name of the chart.
        width: the drawing's width in pixels.
        height: the drawing's height in pixels.
        css_class: class of the ``<svg>`` element (colours come from the stylesheet).
    """
    left, bottom, top = 36, 28, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max(_nice_max(max((v for _, v in points), default=0)), 2.0)
    slot = plot_w / max(len(points), 1)
    every = max(1, int(len(points) / (plot_w / 48)) + 1) if points else 1
    parts = [
        f'<svg class="{escape(css_class)}" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="axis" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{_number(peak * fraction)}</text>")
    for index, (label, value) in enumerate(points):
        bar_h = plot_h * (value / peak) if peak else 0
        x = left + index * slot + slot * 0.15
        y = top + plot_h - bar_h
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{max(slot * 0.7, 1):.1f}" '
                     f'height="{bar_h:.1f}"><title>{escape(label)}: {_number(value)}</title></rect>')
        if index % every == 0:
            parts.append(f'<text class="axis" x="{x + slot * 0.35:.1f}" y="{height - 10}" text-anchor="middle">'
                         f"{escape(label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def share_bar(parts: Sequence[tuple[str, int, str]], *, title: str, width: int = 720, height: int = 34) -> Markup:
    """A horizontal bar split into shares (e.g. likes vs dislikes), with a legend.

    Args:
        parts: ``(label, count, css class)`` of each share.
        title: the accessible name of the chart.
        width: the drawing's width in pixels.
        height: the bar's height in pixels.
    """
    total = sum(count for _, count, _ in parts)
    out = [
        f'<svg class="share" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height + 22}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if total == 0:
        out.append(f'<rect class="empty" x="0" y="0" width="{width}" height="{height}"/>'
                   f'<text class="axis" x="8" y="{height / 2 + 4:.1f}">no data in this range</text>')
    x = 0.0
    legend_x = 0
    for label, count, css in parts:
        share = count / total if total else 0
        text = f"{label}: {count}" + (f" ({share:.0%})" if total else "")
        if share:
            out.append(f'<rect class="{escape(css)}" x="{x:.1f}" y="0" width="{width * share:.1f}" '
                       f'height="{height}"><title>{escape(text)}</title></rect>')
            x += width * share
        out.append(f'<rect class="{escape(css)}" x="{legend_x}" y="{height + 8}" width="10" height="10"/>'
                   f'<text class="axis" x="{legend_x + 14}" y="{height + 17}">{escape(text)}</text>')
        legend_x += 14 + 8 * len(text) + 24
    out.append("</svg>")
    return Markup("".join(out))


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
