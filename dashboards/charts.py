"""Charts as inline SVG drawn by pygal on the server, from the rows the tables show.

No script, stylesheet or font is fetched: pygal's default JavaScript (tooltips, from a CDN) is
switched off, and its comments naming its web site and the inline config script it writes
for that JavaScript are dropped, so the SVG holds no script and no URL but its XML namespaces.
Each chart carries a <title> and a <desc> for screen readers; the page shows
the same figures as a table next to it. Colours are dark enough to print in black and white.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from pathlib import Path

import pygal
from markupsafe import Markup
from pygal.style import Style

COMMENT_RE = re.compile(r"<!--.*?-->", re.S)
SCRIPT_RE = re.compile(r"<script\b.*?</script>", re.S)
SVG_OPEN_RE = re.compile(r"<svg\b[^>]*>")

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#616e7c",
    opacity="1",
    opacity_hover="1",
    colors=("#0b5394", "#b45309", "#1b7f3b", "#6b21a8", "#b42318"),
    font_family='system-ui, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif',
    label_font_size=12,
    major_label_font_size=12,
    value_font_size=11,
    title_font_size=14,
    legend_font_size=12,
)


def compact_money(value) -> str:
    """Axis ticks in round units so they never run into each other: ¥4,766万 / ¥47.7M."""
    from i18n import current_language

    amount = float(value or 0)
    if current_language() == "zh":
        if abs(amount) >= 1e8:
            return f"¥{amount / 1e8:,.4g}亿"
        if abs(amount) >= 1e4:
            return f"¥{amount / 1e4:,.0f}万"
        return f"¥{amount:,.0f}"
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(amount) >= size:
            return f"¥{amount / size:,.3g}{unit}"
    return f"¥{amount:,.0f}"


def _label_margin(labels: Sequence[str], font_size: int = 12) -> int:
    """Room on the left for the bar labels: pygal measures text as Latin letters, and a
    Chinese character is about twice as wide, so long Chinese names were cut off."""
    wide = max((sum(1 for ch in str(label) if ord(ch) > 0x2E80) for label in labels), default=0)
    return min(240, int(wide * font_size * 0.45)) + 8


# Our additions to pygal's stylesheets (value labels with a halo), templated by pygal with
# the chart's id like its own.
CHART_CSS = "file://" + str(Path(__file__).with_name("chart.css"))


def _config(title: str, **options) -> dict:
    config = {
        "js": [],  # pygal's tooltips load a script from a CDN: none here
        "css": ["file://style.css", "file://graph.css", CHART_CSS],
        "disable_xml_declaration": True,
        "style": STYLE,
        "title": None,  # the page's heading names the chart; the SVG gets <title> below
        "width": 640,
        "height": 300,
        "show_legend": False,
        "print_values": True,
        "margin": 8,
        "truncate_label": -1,
        # At most about five value ticks: more run into each other at this width.
        "x_labels_major_count": 5,
        "show_minor_x_labels": False,
    }
    config.update(options)
    return config


def finish(svg: str, title: str, description: str) -> Markup:
    """Drop pygal's comments and its inline config script (only its tooltip JavaScript reads
    it), and give the SVG a role, a <title> and a <desc>."""
    svg = SCRIPT_RE.sub("", COMMENT_RE.sub("", svg))
    head = SVG_OPEN_RE.search(svg)
    opening = head.group(0)[:-1] + ' role="img" focusable="false">'
    accessible = f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
    return Markup(svg[: head.start()] + opening + accessible + svg[head.end() :])


def bar_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[int | Decimal | float],
    *,
    formatter=None,
    axis: str = "",
    width: int = 640,
) -> Markup:
    """One series of horizontal bars, one per row of the table next to it, in the table's
    order (pygal stacks them from the bottom up, so they are given reversed)."""
    chart = pygal.HorizontalBar(
        **_config(
            title,
            height=max(140, 40 + 34 * len(labels)),
            width=width,
            margin_left=_label_margin(labels),
        )
    )
    labels, values = list(reversed(labels)), list(reversed(values))
    chart.x_labels = [str(label) for label in labels]
    if axis == "money":
        # Money in round units on the bars and the axis (¥29.7M, ¥2,968万): full figures
        # overflowed short bars; the table beside the chart has them to the cent.
        formatter = compact_money
    chart.add(title, [float(v) for v in values], formatter=formatter)
    if formatter is not None:
        chart.value_formatter = formatter
    return finish(chart.render(is_unicode=True), title, description)


def grouped_bar_chart(
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int | Decimal | float]]],
) -> Markup:
    """Several series side by side (finance by tier), with a legend. Bars and axis show
    money in round units above each bar; the table below has the figures to the cent."""
    chart = pygal.Bar(
        **_config(
            title,
            show_legend=True,
            legend_at_bottom=True,
            height=320,
            print_values_position="top",
        )
    )
    chart.x_labels = [str(label) for label in labels]
    for name, values in series:
        chart.add(str(name), [float(v) for v in values], formatter=compact_money)
    chart.value_formatter = compact_money
    return finish(chart.render(is_unicode=True), title, description)
