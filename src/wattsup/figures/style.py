"""What every figure shares: the plotly layout, the colours of the two modes and of the life cycle's parts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import plotly.graph_objects as go

LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 70, "r": 30, "t": 60, "b": 90},
    "font": {"size": 13},
}
"""The layout of every figure (``fig.update_layout(**LAYOUT, ...)``)."""

CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": True}
"""plotly.js's config where a figure is embedded in a page."""

TASK_SPECIFIC = "#0969da"
MULTI_PURPOSE = "#cf222e"
OPERATIONAL = "#0969da"
EMBODIED = "#bf8700"
CONSTRUCTION = "#8250df"
NOTE = "#57606a"
PALETTE = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880"]
"""plotly's default colours, in order (the colours of traces that set none)."""


def new_figure() -> go.Figure:
    """An empty figure (plotly is imported here, where a figure is drawn, not at import)."""
    import plotly.graph_objects as go

    return go.Figure()


def add_points(
    fig: go.Figure,
    x: Sequence[Any],
    y: Sequence[Any],
    name: str,
    hover: Sequence[str],
    *,
    mode: str = "markers",
    **trace: Any,
) -> None:
    """A scatter trace of points that show their ``hover`` text (one per point) and nothing else when
    pointed at; ``trace`` sets the rest (marker, legend group, error bars, ...)."""
    fig.add_scatter(x=x, y=y, mode=mode, name=name, text=hover, hoverinfo="text", **trace)


def note(fig: go.Figure, text: str) -> None:
    """A grey note under the plot area (the figure's caveat: an estimate, an unknown)."""
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0,
        y=-0.22,
        xanchor="left",
        yanchor="top",
        showarrow=False,
        font={"size": 11, "color": NOTE},
    )


def finish(
    fig: go.Figure, title: str, x: str | None = None, y: str | None = None, *, log: str = "", **layout: Any
) -> go.Figure:
    """``fig`` with the common layout, its ``title``, the axes' titles ``x`` and ``y``, logarithmic axes
    (``log``: ``"x"``, ``"y"`` or ``"xy"``) and any other ``layout``."""
    axes = {"xaxis_title": x, "yaxis_title": y, **{f"{a}axis_type": "log" for a in log}}
    fig.update_layout(**LAYOUT, title=title, **{k: v for k, v in axes.items() if v is not None}, **layout)
    return fig


def html(fig: go.Figure) -> str:
    """The figure as an HTML fragment (a div and its ``Plotly.newPlot`` call, its JSON escaped for a
    ``<script>`` by plotly); plotly.js is not included."""
    return str(fig.to_html(full_html=False, include_plotlyjs=False, config=CONFIG))
