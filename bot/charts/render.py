"""Drawing a Chart with matplotlib (Agg, no display): PNG bytes for Slack, SVG text for the page.

The page's SVG is themed by CSS: its ink and grid are drawn in two sentinel colours that are
then replaced by `var(--ink)` / `var(--grid)`, so one SVG reads in light and dark mode alike.
"""
from __future__ import annotations

import io
import threading

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from bot.charts.spec import PALETTE, Chart  # noqa: E402

INK_SENTINEL, GRID_SENTINEL = "#010203", "#040506"
LIGHT = {"ink": "#1e293b", "grid": "#e2e8f0", "paper": "#ffffff"}
_lock = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


def render_png(chart: Chart, *, width: float = 9.6, height: float = 4.4, dpi: int = 100) -> bytes:
    """A PNG on white, 960×440 at the default size (what Slack shows in the digest)."""
    with _lock:
        figure = _draw(chart, width=width, height=height, ink=LIGHT["ink"], grid=LIGHT["grid"], paper=LIGHT["paper"])
        out = io.BytesIO()
        figure.savefig(out, format="png", dpi=dpi, facecolor=LIGHT["paper"])
    return out.getvalue()


def render_svg(chart: Chart, *, width: float = 6.4, height: float = 3.2) -> str:
    """An SVG with a transparent background and themable ink (see module docstring)."""
    with _lock:
        figure = _draw(chart, width=width, height=height, ink=INK_SENTINEL, grid=GRID_SENTINEL, paper="none")
        out = io.StringIO()
        figure.savefig(out, format="svg", transparent=True, metadata={"Date": None})
    svg = out.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype: it is inlined in HTML
    svg = svg.replace(INK_SENTINEL, "var(--ink)").replace(GRID_SENTINEL, "var(--grid)")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(chart.title)}" class="chart-svg" ', 1)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _draw(chart: Chart, *, width: float, height: float, ink: str, grid: str, paper: str) -> Figure:
    figure = Figure(figsize=(width, height), facecolor=paper, layout="constrained")
    axes = figure.add_subplot()
    axes.set_facecolor(paper)
    colors = [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(chart.series)]
    positions = list(range(len(chart.labels)))
    if chart.kind in ("stacked_bar", "paired_stacked_bar"):
        groups = list(dict.fromkeys(s.group for s in chart.series)) if chart.kind == "paired_stacked_bar" else [""]
        bar = 0.8 / len(groups)
        for g, group in enumerate(groups):
            bottom = [0.0] * len(positions)
            offset = (g - (len(groups) - 1) / 2) * bar
            for series, color in zip(chart.series, colors):
                if series.group != group:
                    continue
                axes.bar([p + offset for p in positions], series.values, width=bar * 0.92, bottom=bottom, color=color,
                         alpha=1.0 if g == 0 else 0.45, label=series.name if g == 0 else None)
                bottom = [b + v for b, v in zip(bottom, series.values)]
    elif chart.kind == "stacked_area":
        axes.stackplot(positions, *[s.values for s in chart.series], labels=[s.name for s in chart.series], colors=colors, alpha=0.9)
    elif chart.kind == "bar":
        for series, color in zip(chart.series, colors):
            axes.bar(positions, series.values, color=[chart.extra.get(label, color) for label in chart.labels])
    elif chart.kind == "hbar":
        series = chart.series[0]
        axes.barh(positions, series.values, color=colors[0])
        axes.set_yticks(positions, chart.labels)
        axes.invert_yaxis()
    elif chart.kind == "line":
        for series, color in zip(chart.series, colors):
            axes.plot(positions, series.values, color=color, label=series.name, linewidth=2)
    else:
        raise ValueError(f"unknown chart kind {chart.kind!r}")
    if chart.kind != "hbar":
        step = max(1, -(-len(positions) // 10))  # at most ~10 labels: they never overlap
        axes.set_xticks(positions[::step], [chart.labels[i] for i in positions[::step]])
    axes.set_title(chart.title + (f"\n{chart.note}" if chart.note else ""), color=ink, fontsize=11, loc="left")
    axes.set_ylabel(chart.y_label, color=ink)
    axes.tick_params(colors=ink, labelsize=9)
    axes.grid(axis="x" if chart.kind == "hbar" else "y", color=grid, linewidth=0.8)
    axes.set_axisbelow(True)
    for name, spine in axes.spines.items():
        spine.set_visible(name in ("bottom", "left"))
        spine.set_color(ink)
    if chart.kind not in ("hbar", "bar") and len(chart.series) > 1:
        legend = axes.legend(loc="upper left", fontsize=8, frameon=False, ncols=min(4, len(chart.series)))
        for text in legend.get_texts():
            text.set_color(ink)
    if chart.empty:
        axes.text(0.5, 0.5, "no data yet", transform=axes.transAxes, ha="center", va="center", color=ink)
    counts = axes.xaxis if chart.kind == "hbar" else axes.yaxis
    counts.set_major_locator(MaxNLocator(integer=True, nbins=6))  # no "2.5 tickets"
    if chart.kind == "hbar":
        axes.set_xlim(left=0)
    else:
        top = axes.get_ylim()[1]
        axes.set_ylim(bottom=0, top=top * (1.25 if len(chart.series) > 1 else 1.05))  # room for the legend
    return figure
