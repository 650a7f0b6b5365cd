"""Rendering a `Chart` to inline SVG: matplotlib when installed, else a small built-in line chart.

matplotlib is the ``report`` extra (``pip install 'tsload[report]'``). Without it the page still
gets every chart, drawn by `render_basic_svg` (axes, ticks, one polyline per series, legend).
"""

from __future__ import annotations

import html
import io
import math
import re
from collections.abc import Sequence

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


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _fmt(v: float) -> str:
    return f"{v:g}" if abs(v) < 1e6 else f"{v:.3g}"


def render_basic_svg(chart: Chart, width: int = 720, height: int = 320) -> str:
    left, right, top, bottom = 64, 16, 30, 46
    pw, ph = width - left - right, height - top - bottom
    all_x = _xs(chart)
    xs_flat = [x for xs in all_x for x in xs]
    ys_flat = [y for s in chart.series for y in s.ys]
    x_lo, x_hi = (min(xs_flat), max(xs_flat)) if xs_flat else (0.0, 1.0)
    if chart.kind == "percentile":
        x_lo, x_hi = 0.0, max(math.ceil(x_hi), 1)
    if x_hi <= x_lo:
        x_hi = x_lo + 1.0
    positive = [y for y in ys_flat if y > 0]
    if chart.y_log and positive:
        d_lo, d_hi = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
        d_hi = max(d_hi, d_lo + 1)
        y_ticks = [10.0**d for d in range(d_lo, d_hi + 1)]

        def py(y: float) -> float:
            v = math.log10(y) if y > 0 else float(d_lo)
            return top + ph - (v - d_lo) / (d_hi - d_lo) * ph
    else:
        y_hi = max(ys_flat, default=1.0) * 1.05 or 1.0
        y_ticks = nice_ticks(0.0, y_hi)
        y_top = max(y_hi, y_ticks[-1])

        def py(y: float) -> float:
            return top + ph - (y / y_top) * ph

    def px(x: float) -> float:
        return left + (x - x_lo) / (x_hi - x_lo) * pw

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="13">'
        f"{html.escape(chart.title)}</text>",
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
    ]
    for t in y_ticks:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#eee"/>'
                   f'<text x="{left - 4}" y="{py(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    if chart.kind == "percentile":
        x_ticks: Sequence[tuple[float, str]] = [(float(d), _pct_label(d)) for d in range(int(x_hi) + 1)]
    else:
        x_ticks = [(t, _fmt(t)) for t in nice_ticks(x_lo, x_hi)]
    for t, label in x_ticks:
        if x_lo - 1e-9 <= t <= x_hi + 1e-9:
            out.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{top + ph}" stroke="#eee"/>'
                       f'<text x="{px(t):.1f}" y="{top + ph + 14}" text-anchor="middle">'
                       f"{html.escape(label)}</text>")
    out.append(f'<text x="{left + pw / 2:.0f}" y="{height - 6}" text-anchor="middle">'
               f'{html.escape(chart.x_label)}</text>')
    out.append(f'<text transform="translate(14,{top + ph / 2:.0f}) rotate(-90)" text-anchor="middle">'
               f'{html.escape(chart.y_label)}</text>')
    for k, (s, xs) in enumerate(zip(chart.series, all_x, strict=True)):
        colour = PALETTE[k % len(PALETTE)]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, s.ys, strict=True))
        shape = "polyline" if len(s.ys) > 1 else "circle"
        if shape == "polyline":
            out.append(f'<polyline class="series" data-label="{html.escape(s.label)}" '
                       f'data-points="{len(s.ys)}" '
                       f'fill="none" stroke="{colour}" stroke-width="1.6" points="{pts}"/>')
        elif s.ys:
            out.append(f'<circle class="series" data-label="{html.escape(s.label)}" data-points="1" '
                       f'cx="{px(xs[0]):.1f}" cy="{py(s.ys[0]):.1f}" r="3" fill="{colour}"/>')
        ly = top + 12 + 14 * k
        out.append(f'<line x1="{left + 8}" x2="{left + 24}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" '
                   f'stroke-width="2"/><text x="{left + 28}" y="{ly}">{html.escape(s.label)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def render_matplotlib_svg(chart: Chart) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, 3.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    all_x = _xs(chart)
    for k, (s, xs) in enumerate(zip(chart.series, all_x, strict=True)):
        xv = [10.0 ** x for x in xs] if chart.kind == "percentile" else xs
        ax.plot(xv, list(s.ys), label=s.label, color=PALETTE[k % len(PALETTE)], linewidth=1.4,
                marker="." if len(s.ys) < 3 else None)
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


def render_svg(chart: Chart, use_matplotlib: bool | None = None) -> str:
    """Inline SVG for ``chart``: matplotlib when available (or asked for), else the basic renderer."""
    if use_matplotlib is None:
        use_matplotlib = matplotlib_available()
    return render_matplotlib_svg(chart) if use_matplotlib else render_basic_svg(chart)
