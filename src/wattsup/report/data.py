"""Everything a report shows, computed once from the store through :mod:`wattsup.analysis` and the figures
of :mod:`wattsup.figures` (whose analyses the report's tables share)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from wattsup.analysis import (
    LeaderboardEntry,
    LifecycleBreakdown,
    MixWarning,
    ModeComparison,
    ParamFit,
    ReportOptions,
    TaskInterval,
    TaskSummary,
)
from wattsup.analysis.query import Source
from wattsup.analysis.serving import ServingAnalysis, check_latency
from wattsup.errors import InvalidInput, WattsupError
from wattsup.figures import FigureQuery, FigureSpec, specs

if TYPE_CHECKING:
    import plotly.graph_objects as go


@dataclass
class ReportFigure:
    """One registered figure as the report has it: drawn, or ``None`` with ``note`` saying why not."""

    name: str
    heading: str
    section: str
    figure: go.Figure | None
    inputs: Any = None
    note: str = ""
    """Why the figure's analysis failed (empty when it ran; no figure then means no data)."""


@dataclass
class ReportData:
    options: ReportOptions
    location: str
    generated_at: datetime
    runs: int
    summary: list[TaskSummary]
    intervals: dict[str, TaskInterval]
    params: list[ParamFit]
    modes: list[ModeComparison]
    lifecycle: LifecycleBreakdown | None
    lifecycle_note: str
    leaderboards: dict[str, list[LeaderboardEntry]]
    warnings: list[MixWarning]
    figures: list[ReportFigure] = field(default_factory=list)
    serving: ServingAnalysis | None = None
    """The stored serving runs' analyses (``runs == 0``: the store has none)."""
    notes: list[str] = field(default_factory=list)
    modelled: str | None = None
    """The label of modelled figures (see :meth:`wattsup.analysis.ModelledShare.note`), None if none is."""

    @property
    def unit(self) -> str:
        return self.summary[0].unit if self.summary else self.options.metric.unit

    def figure(self, name: str) -> ReportFigure:
        return next(f for f in self.figures if f.name == name)

    def section(self, section: str) -> list[ReportFigure]:
        return [f for f in self.figures if f.section == section]


def _draw(spec: FigureSpec[Any], query: FigureQuery) -> ReportFigure:
    try:
        inputs = spec.inputs(query)
    except WattsupError as err:
        return ReportFigure(spec.name, spec.heading, spec.section, None, note=f"{spec.what} not drawn: {err}")
    return ReportFigure(spec.name, spec.heading, spec.section, spec.draw(inputs, query.unit), inputs)


def collect(
    source: Source,
    options: ReportOptions,
    *,
    location: str = "",
    params: Mapping[str, int] | None = None,
    serving_latency: str = "ttft",
) -> ReportData:
    """Run every analysis the report needs and draw every registered figure (``serving_latency``: the
    latency of the serving Pareto front, ``ttft`` or ``tpot``). Raises :class:`InvalidInput` when the
    selection is empty."""
    from wattsup import analysis as an

    sel, metric = options.selection, options.metric
    facets = an.facets(source, sel)
    if facets.runs == 0:
        raise InvalidInput(
            "--db",
            f"no runs match in {location or 'the store'}; import or run some first (see 'wattsup runs')",
        )
    summary = an.summary_by_task(source, sel, metric)
    if not summary:
        raise InvalidInput("--phase", f"no run has a figure for {metric.phase or 'the whole window'!r}")
    query = FigureQuery(source, sel, metric, options.scenario, params, latency=check_latency(serving_latency))
    figures = [_draw(s, query) for s in specs()]
    by_name = {f.name: f for f in figures}
    life = by_name["lifecycle"]
    lifecycle = life.inputs if isinstance(life.inputs, LifecycleBreakdown) else None
    serving = by_name["serving_pareto"].inputs
    return ReportData(
        options=replace(options, scenario=lifecycle.scenario) if lifecycle is not None else options,
        location=location,
        generated_at=datetime.now(UTC),
        runs=facets.runs,
        summary=summary,
        intervals={t.task: t for t in an.task_intervals(source, sel, metric)},
        params=by_name["energy_vs_params"].inputs,
        modes=by_name["multi_vs_task"].inputs,
        lifecycle=lifecycle,
        lifecycle_note=life.note,
        leaderboards={s.task: an.leaderboard(source, s.task, sel, metric) for s in summary},
        warnings=an.mixed_method_warnings(source, sel),
        figures=figures,
        serving=serving if isinstance(serving, ServingAnalysis) else None,
        modelled=an.modelled_share(source, sel, metric).note(),
    )
