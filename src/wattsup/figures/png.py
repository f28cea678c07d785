"""A plotly figure drawn as a PNG by matplotlib (no kaleido, no browser): the report's static figures come
from the same definitions as its interactive ones.

What the renderer knows is what wattsup's figures use: scatter traces (markers, lines, text labels, error
bars), bar traces (vertical or horizontal, grouped or stacked, with text), log axes, category axes, fixed
tick labels, reversed axes, annotations in data or paper coordinates, the title and the legend.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattsup.figures.style import PALETTE

if TYPE_CHECKING:
    import plotly.graph_objects as go

DPI = 160
PX_PER_INCH = 100.0
PT_PER_PX = 0.72
_SYMBOLS = {
    "circle": "o",
    "triangle-up": "^",
    "square": "s",
    "diamond": "D",
    "line-ew-open": "_",
    "line-ew": "_",
    "x": "x",
    "cross": "P",
    "star": "*",
}
_TAG = re.compile(r"<(?!br\b)[^>]*>")


def plain(text: object) -> str:
    """Plotly's text markup as plain text: ``<br>`` a line break, other tags dropped."""
    return _TAG.sub("", re.sub(r"<br\s*/?>", "\n", str(text or "")))


def _title(node: object) -> str:
    if isinstance(node, dict):
        return plain(node.get("text", ""))
    return plain(node)


def _nan(values: Sequence[Any] | None) -> list[float]:
    return [math.nan if v is None else float(v) for v in values or []]


class _Axis:
    """One axis: its categories (strings seen in the traces, in order) and whether it is logarithmic."""

    def __init__(self, traces: Sequence[dict[str, Any]], key: str, layout: dict[str, Any]) -> None:
        self.categories: list[str] = []
        for t in traces:
            for v in t.get(key) or []:
                if isinstance(v, str) and v not in self.categories:
                    self.categories.append(v)
        self.layout = layout
        self.log = layout.get("type") == "log"

    def positions(self, values: Sequence[Any] | None) -> list[float]:
        if self.categories:
            return [float(self.categories.index(v)) if isinstance(v, str) else math.nan for v in values or []]
        return _nan(values)

    def annotation(self, value: Any) -> float:
        if isinstance(value, str) and value in self.categories:
            return float(self.categories.index(value))
        return 10 ** float(value) if self.log else float(value)  # plotly places them by log10 on log axes

    def scale(self, ax: Any, which: str) -> None:
        """Before drawing: the axis's scale."""
        if self.log:
            getattr(ax, f"set_{which}scale")("log")

    def finish(self, ax: Any, which: str) -> None:
        """After drawing: title, tick labels (categories or fixed ones) and direction."""
        getattr(ax, f"set_{which}label")(_title(self.layout.get("title")))
        ticks, labels = self.layout.get("tickvals"), self.layout.get("ticktext")
        if self.categories:
            ticks, labels = list(range(len(self.categories))), self.categories
        if ticks is not None and labels is not None:
            texts = [plain(s) for s in labels]
            getattr(ax, f"set_{which}ticks")(ticks)
            if which == "x" and sum(len(t) for t in texts) > 60:
                ax.set_xticklabels(texts, rotation=30, ha="right")
            else:
                getattr(ax, f"set_{which}ticklabels")(texts)
        if self.log:
            from matplotlib.ticker import FuncFormatter, NullFormatter

            axis = getattr(ax, f"{which}axis")
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(NullFormatter())
        if self.layout.get("autorange") == "reversed":
            getattr(ax, f"invert_{which}axis")()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    return plt


def _marker(trace: dict[str, Any], color: str) -> dict[str, Any]:
    m = trace.get("marker") or {}
    symbol = str(m.get("symbol", "circle"))
    line = m.get("line") or {}
    return {
        "marker": _SYMBOLS.get(symbol.removesuffix("-open"), "o") if symbol != "line-ew-open" else "_",
        "size": float(m.get("size", 6)) * PT_PER_PX,
        "color": m.get("color") if isinstance(m.get("color"), str) else color,
        "alpha": float(m.get("opacity", trace.get("opacity", 1.0))),
        "edge": float(line.get("width", 0.5)),
    }


def _label(trace: dict[str, Any]) -> str | None:
    if trace.get("showlegend") is False or not trace.get("name"):
        return None
    return plain(trace["name"])


def _scatter(ax: Any, trace: dict[str, Any], color: str, xaxis: _Axis, yaxis: _Axis) -> None:
    xs, ys = xaxis.positions(trace.get("x")), yaxis.positions(trace.get("y"))
    mode = str(trace.get("mode", "markers"))
    mk = _marker(trace, color)
    line = trace.get("line") or {}
    line_color = line.get("color", mk["color"])
    if "lines" in mode:
        ax.plot(
            xs,
            ys,
            color=line_color,
            linewidth=float(line.get("width", 2.0)) * PT_PER_PX * 1.4,
            marker=mk["marker"] if "markers" in mode else None,
            markersize=mk["size"],
            alpha=mk["alpha"],
            label=_label(trace),
            zorder=3,
        )
    else:
        ax.scatter(
            xs,
            ys,
            s=mk["size"] ** 2,
            marker=mk["marker"],
            color=mk["color"],
            alpha=mk["alpha"],
            linewidths=mk["edge"] if mk["marker"] == "_" else 0.5,
            edgecolors="white" if mk["marker"] != "_" else None,
            label=_label(trace),
            zorder=3,
        )
    err = trace.get("error_y") or {}
    if err.get("array") is not None and err.get("visible", True):
        bounds = [0.0 if v is None else float(v) for v in err["array"]]
        ax.errorbar(xs, ys, yerr=bounds, fmt="none", ecolor=mk["color"], elinewidth=1, capsize=3, zorder=2)
    if "text" in mode:
        for x, y, text in zip(xs, ys, trace.get("text") or [], strict=False):
            ax.annotate(plain(text), (x, y), xytext=(5, 5), textcoords="offset points", fontsize=8)


def _bars(
    ax: Any, bars: Sequence[tuple[dict[str, Any], str]], layout: dict[str, Any], axes: tuple[_Axis, _Axis]
) -> None:
    """Bar traces, grouped (side by side) or stacked (``layout.barmode``)."""
    if not bars:
        return
    stacked = layout.get("barmode") in ("stack", "relative")
    width = 0.8 if stacked else 0.8 / len(bars)
    base: dict[float, float] = {}
    smallest = math.inf
    for k, (trace, color) in enumerate(bars):
        horizontal = trace.get("orientation") == "h"
        cat_axis = axes[1] if horizontal else axes[0]
        cats = cat_axis.positions(trace.get("y" if horizontal else "x"))
        vals = trace.get("x" if horizontal else "y") or []
        offset = 0.0 if stacked else (k - (len(bars) - 1) / 2) * width
        texts = trace.get("text") or []
        mcolor = (trace.get("marker") or {}).get("color", color)
        first = True
        for i, (c, v) in enumerate(zip(cats, vals, strict=False)):
            if v is None or math.isnan(c):
                continue
            start = base.get(c, 0.0) if stacked else 0.0
            pos = c + offset
            label = _label(trace) if first else None
            first = False
            if horizontal:
                ax.barh(pos, float(v), left=start, height=width, color=mcolor, label=label, zorder=2)
            else:
                ax.bar(pos, float(v), bottom=start, width=width, color=mcolor, label=label, zorder=2)
            if stacked:
                base[c] = start + float(v)
            if float(v) > 0:
                smallest = min(smallest, start + float(v))
            text = plain(texts[i]) if i < len(texts) else ""
            if text:
                end = start + float(v)
                where = (end, pos) if horizontal else (pos, end)
                shift = (4, 0) if horizontal else (0, 3)
                ax.annotate(
                    text,
                    where,
                    xytext=shift,
                    textcoords="offset points",
                    ha="left" if horizontal else "center",
                    va="center" if horizontal else "bottom",
                    fontsize=9,
                )
    _log_floor(ax, axes, bars, smallest)


def _log_floor(
    ax: Any, axes: tuple[_Axis, _Axis], bars: Sequence[tuple[dict[str, Any], str]], low: float
) -> None:
    """On a log value axis, bars start from zero, which the axis cannot show: start it below the shortest."""
    horizontal = bars[0][0].get("orientation") == "h"
    value_axis = axes[0] if horizontal else axes[1]
    if value_axis.log and math.isfinite(low):
        (ax.set_xlim if horizontal else ax.set_ylim)(low / 3, None)


def _annotations(ax: Any, layout: dict[str, Any], xaxis: _Axis, yaxis: _Axis) -> None:
    for a in layout.get("annotations") or []:
        paper = a.get("xref") == "paper" and a.get("yref") == "paper"
        xy = (
            (float(a.get("x", 0)), float(a.get("y", 0)))
            if paper
            else (
                xaxis.annotation(a.get("x", 0)),
                yaxis.annotation(a.get("y", 0)),
            )
        )
        font = a.get("font") or {}
        anchor_x = {"left": "left", "right": "right"}.get(str(a.get("xanchor")), "center")
        anchor_y = {"top": "top", "bottom": "bottom"}.get(str(a.get("yanchor")), "center")
        ax.annotate(
            plain(a.get("text")),
            xy,
            xycoords=ax.transAxes if paper else "data",
            ha=anchor_x,
            va=anchor_y,
            fontsize=float(font.get("size", 11)) * 0.8,
            color=font.get("color", "#1f2328"),
            annotation_clip=False,
        )


def _colorway(layout: dict[str, Any]) -> list[str]:
    colors = layout.get("colorway") or ((layout.get("template") or {}).get("layout") or {}).get("colorway")
    return list(colors or PALETTE)


def write_png(fig: go.Figure, out: str | Path, *, dpi: int = DPI) -> Path:
    """Draw ``fig`` with matplotlib into the PNG file ``out`` (any other suffix matplotlib knows, such as
    ``.svg``, writes that format). Returns ``out``."""
    spec = fig.to_plotly_json()
    data: list[dict[str, Any]] = list(spec.get("data") or [])
    layout: dict[str, Any] = dict(spec.get("layout") or {})
    plt = _pyplot()
    width, height = float(layout.get("width") or 820), float(layout.get("height") or 500)
    mfig, ax = plt.subplots(figsize=(width / PX_PER_INCH, height / PX_PER_INCH))
    try:
        xaxis, yaxis = (
            _Axis(data, "x", layout.get("xaxis") or {}),
            _Axis(data, "y", layout.get("yaxis") or {}),
        )
        xaxis.scale(ax, "x")
        yaxis.scale(ax, "y")
        colors = _colorway(layout)
        bars = []
        for i, trace in enumerate(data):
            color = colors[i % len(colors)]
            if trace.get("type") == "bar":
                bars.append((trace, color))
            else:
                _scatter(ax, trace, color, xaxis, yaxis)
        _bars(ax, bars, layout, (xaxis, yaxis))
        _annotations(ax, layout, xaxis, yaxis)
        xaxis.finish(ax, "x")
        yaxis.finish(ax, "y")
        ax.set_title(_title(layout.get("title")), fontsize=12)
        ax.grid(alpha=0.3, zorder=0)
        ax.spines[["top", "right"]].set_visible(False)
        if layout.get("showlegend") is not False and ax.get_legend_handles_labels()[1]:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
        path = Path(out)
        mfig.savefig(path, dpi=dpi, bbox_inches="tight")
        return path
    finally:
        plt.close(mfig)
