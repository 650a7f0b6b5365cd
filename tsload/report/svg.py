"""Rendering a `Chart` to inline SVG with matplotlib (the ``report`` extra).

``pip install 'tsload[report]'`` (the demo and test setups install it). Without matplotlib an HTML
report is refused with a one-line error rather than drawn by hand.
"""

from __future__ import annotations

import io
import math
import re

from tsload._errors import ConfigError
from tsload.report.charts import Chart

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pct_x(p: float, cap: float) -> float:
    """Percentile → decades of 1/(1-p) (0% → 0, 90% → 1, 99% → 2 …), capped for p = 100."""
    if p >= 100.0:
        return cap
    return min(math.log10(1.0 / (1.0 - p / 100.0)), cap)


#: Percentile ticks: where users read a latency distribution (50 % is log10(2) decades in).
PCT_TICKS: tuple[float, ...] = (50.0, 90.0, 99.0, 99.9, 99.99, 99.999)


def _pct_label(p: float) -> str:
    return f"{p:g}%"


def _xs(chart: Chart) -> list[list[float]]:
    if chart.kind != "percentile":
        return [list(s.xs) for s in chart.series]
    finite = [_pct_x(p, 1e9) for s in chart.series for p in s.xs if p < 100.0]
    cap = max(finite, default=1.0)
    return [[_pct_x(p, cap) for p in s.xs] for s in chart.series]


def _break_gaps(xs: list[float], ys: list[float], gap: float) -> tuple[list[float], list[float]]:
    """NaN between points further apart than ``gap``: matplotlib then draws no line across."""
    if gap <= 0:
        return xs, ys
    ox: list[float] = []
    oy: list[float] = []
    for k, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if k and x - xs[k - 1] > gap:
            ox.append(math.nan)
            oy.append(math.nan)
        ox.append(x)
        oy.append(y)
    return ox, oy


def render_matplotlib_svg(chart: Chart) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11.0, 3.4), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    all_x = _xs(chart)
    for k, (s, xs) in enumerate(zip(chart.series, all_x, strict=True)):
        xv = [10.0 ** x for x in xs] if chart.kind == "percentile" else xs
        ys = list(s.ys)
        style: dict[str, object] = {"linewidth": 1.4, "color": PALETTE[k % len(PALETTE)]}
        if chart.steps:
            style["drawstyle"] = "steps-post"
        elif chart.kind == "time":
            xv, ys = _break_gaps(xv, ys, chart.gap)
            style["marker"] = "o"
            style["markersize"] = 3.0
        elif len(set(ys)) < 3:  # one or two values (a query that ran once): a line alone is invisible
            style["marker"] = "o"
            style["markersize"] = 4.0
        if s.label == "max" and chart.kind == "time":
            # max on top of p99 would hide it: dashed, thin and underneath
            style.update(linestyle="--", linewidth=1.0, color="#999999", zorder=1)
        else:
            style["zorder"] = 2 + k
        # gid: the series' <g> in the SVG carries its index, so a test can check what was drawn
        ax.plot(xv, ys, label=s.label, gid=f"tsload-series-{k}", **style)  # type: ignore[arg-type]
    if chart.kind == "percentile":
        top = float(math.ceil(max((x for xs in all_x for x in xs), default=1.0) - 1e-9))
        ax.set_xscale("log")
        ticks = [p for p in PCT_TICKS if _pct_x(p, 1e9) <= max(top, 1.0) + 1e-9]
        ax.set_xticks([10.0 ** _pct_x(p, 1e9) for p in ticks], [_pct_label(p) for p in ticks])
        ax.minorticks_off()
        ax.set_xlim(1.0, 10.0 ** max(top, 1.0))
    elif chart.x_range is not None:
        ax.set_xlim(*chart.x_range)
    if chart.y_log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.set_title(chart.title, fontsize=11)
    ax.set_xlabel(chart.x_label)
    ax.set_ylabel(chart.y_label)
    ax.grid(True, color="#eee")
    if chart.series:
        # beside the plot, never over the data
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    import matplotlib

    buf = io.StringIO()
    # Text as <text>, not glyph outlines: a third of the size, and searchable in the page.
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return re.sub(r"^.*?(<svg\b)", r"\1", text, count=1, flags=re.S)


def require_matplotlib() -> None:
    if not matplotlib_available():
        raise ConfigError("the HTML report's charts need matplotlib: pip install 'tsload[report]'")


def render_svg(chart: Chart) -> str:
    """Inline SVG for ``chart`` (ConfigError when matplotlib is not installed)."""
    require_matplotlib()
    return render_matplotlib_svg(chart)
