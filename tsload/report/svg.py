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


def _pct_label(decade: int) -> str:
    if decade == 0:
        return "0%"
    return f"{100.0 * (1.0 - 10.0 ** -decade):.{max(decade - 2, 0)}f}%"


def _xs(chart: Chart) -> list[list[float]]:
    if chart.kind != "percentile":
        return [list(s.xs) for s in chart.series]
    finite = [_pct_x(p, 1e9) for s in chart.series for p in s.xs if p < 100.0]
    cap = max(finite, default=1.0)
    return [[_pct_x(p, cap) for p in s.xs] for s in chart.series]


def render_matplotlib_svg(chart: Chart) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 3.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    all_x = _xs(chart)
    for k, (s, xs) in enumerate(zip(chart.series, all_x, strict=True)):
        xv = [10.0 ** x for x in xs] if chart.kind == "percentile" else xs
        # gid: the series' <g> in the SVG carries its index, so a test can check what was drawn
        ax.plot(xv, list(s.ys), label=s.label, color=PALETTE[k % len(PALETTE)], linewidth=1.4,
                marker="." if len(s.ys) < 3 else None, gid=f"tsload-series-{k}")
    if chart.kind == "percentile":
        top = max((math.ceil(x) for xs in all_x for x in xs), default=1)
        ax.set_xscale("log")
        ticks = list(range(max(top, 1) + 1))
        ax.set_xticks([10.0 ** d for d in ticks], [_pct_label(d) for d in ticks])
        ax.set_xlim(1.0, 10.0 ** max(top, 1))
    if chart.y_log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.set_title(chart.title, fontsize=11)
    ax.set_xlabel(chart.x_label)
    ax.set_ylabel(chart.y_label)
    ax.grid(True, color="#eee")
    if chart.series:
        ax.legend(fontsize=8, loc="upper left")
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
        raise ConfigError("--format html: the charts need matplotlib: pip install 'tsload[report]'")


def render_svg(chart: Chart) -> str:
    """Inline SVG for ``chart`` (ConfigError when matplotlib is not installed)."""
    require_matplotlib()
    return render_matplotlib_svg(chart)
