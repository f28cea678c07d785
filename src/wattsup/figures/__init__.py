"""Every figure of wattsup, defined once: a function from an analysis result to a plotly figure, registered
by name with the analysis that feeds it. The report embeds the figures' plotly JSON and writes their PNGs
(:mod:`wattsup.figures.png`, from the same figure); the dashboard serves the same JSON.

    FigureQuery(source, selection=Selection(), metric=Metric(), scenario=Scenario(), params=None,
                serving_model=None, latency="ttft")
    figure(name, query) -> plotly.graph_objects.Figure | None      # None: nothing to draw
    figure_json(name, query) -> dict | None                        # fig.to_plotly_json(), plain JSON types
    specs(section=None) -> list[FigureSpec]                        # name, heading, section, inputs, draw
    write_png(fig, out) -> Path

Figures: energy_by_task, energy_vs_params, multi_vs_task, phases, output_length, lifecycle (section
``energy``); serving_energy_vs_concurrency, serving_energy_vs_rate, serving_pareto, serving_equal_load
(section ``serving``). Adding a figure: a function decorated with :func:`register` in a module imported
below.
"""

from __future__ import annotations

from wattsup.figures import energy, lifecycle, serving
from wattsup.figures.png import write_png
from wattsup.figures.registry import FigureQuery, FigureSpec, figure, figure_json, register, spec, specs

__all__ = [
    "FigureQuery",
    "FigureSpec",
    "energy",
    "figure",
    "figure_json",
    "lifecycle",
    "register",
    "serving",
    "spec",
    "specs",
    "write_png",
]
