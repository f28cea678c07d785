"""PNGs (and SVGs) drawn by matplotlib from the plotly figures: what each figure shows reaches the file."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go

from wattsup.analysis import Scenario
from wattsup.analysis.types import LifecycleBreakdown
from wattsup.figures import lifecycle, write_png
from wattsup.figures.png import plain

PNG = b"\x89PNG\r\n\x1a\n"


def _breakdown(training_kg: float | None) -> LifecycleBreakdown:
    return LifecycleBreakdown(
        scenario=Scenario(region="FRA", training_kwh=1e4, queries_per_day=1e5, years=2),
        kwh_per_1k=0.1,
        kwh_source="given",
        gpu="A100-SXM4-80GB",
        training_operational_kg=training_kg,
        training_embodied_kg=40.0,
        inference_operational_kg=200.0,
        inference_embodied_kg=60.0,
        training_construction_kg=1.5,
        inference_construction_kg=3.0,
        total_kg=404.5,
        parity_inferences=None,
        parity_days=None,
        notes=[],
        footprint={},
    )


def test_lifecycle_stacks_construction_apart(tmp_path: Path) -> None:
    out = write_png(lifecycle.lifecycle(_breakdown(100.0)), tmp_path / "lifecycle.svg")
    svg = out.read_text()
    # matplotlib's SVG keeps each text as a comment: the legend has a construction entry, and each
    # bar's label is operational + embodied + construction
    assert "<!-- construction -->" in svg and "<!-- embodied -->" in svg
    assert "<!-- 141.50 kg -->" in svg and "<!-- 263.00 kg -->" in svg


def test_unknown_training_is_said_not_drawn_as_zero(tmp_path: Path) -> None:
    svg = write_png(lifecycle.lifecycle(_breakdown(None)), tmp_path / "l.svg").read_text()
    assert "<!-- operational unknown -->" in svg and "<!-- (no training energy given: -->" in svg


def test_every_kind_of_trace_and_axis_renders(tmp_path: Path) -> None:
    fig = go.Figure()
    fig.add_scatter(
        x=[1, 10, 100], y=[1.0, None, 3.0], mode="lines+markers+text", text=["a", "b", "c"], name="l"
    )
    fig.add_scatter(x=[1, 10], y=[2.0, 4.0], error_y={"type": "data", "array": [0.5, None]}, mode="markers")
    fig.add_annotation(x=1, y=2, text="at 10<br>two lines", showarrow=False)  # log axis: plotly's log10
    fig.add_annotation(x=0, y=-0.2, xref="paper", yref="paper", text="<b>paper</b> note", showarrow=False)
    fig.update_layout(title="t", xaxis_type="log", yaxis_title="<i>y</i>", showlegend=True)
    out = write_png(fig, tmp_path / "mixed.svg").read_text()
    assert "<!-- c -->" in out and "<!-- paper note -->" in out and "<!-- l -->" in out
    bars = go.Figure()
    bars.add_bar(y=["a", "b"], x=[1.0, 10.0], orientation="h", name="one", text=["×1", ""])
    bars.add_bar(y=["a", "b"], x=[2.0, None], orientation="h", name="two")
    bars.update_layout(barmode="group", xaxis_type="log", yaxis={"autorange": "reversed"})
    png = write_png(bars, tmp_path / "bars.png")
    assert png.read_bytes()[:8] == PNG
    stacked = go.Figure(
        [go.Bar(x=["p", "q"], y=[1, 2], name="s1"), go.Bar(x=["p", "q"], y=[3, 4], name="s2")]
    )
    stacked.update_layout(barmode="stack")
    svg = write_png(stacked, tmp_path / "stacked.svg").read_text()
    assert "<!-- s2 -->" in svg and "<!-- q -->" in svg


def test_plain_text_from_plotly_markup() -> None:
    assert plain("a<br>b <b>c</b>") == "a\nb c" and plain(None) == ""
