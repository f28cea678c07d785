"""Everything a report shows, computed once from the store through :mod:`wattsup.analysis`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from wattsup.analysis import (
    FamilyFit,
    LeaderboardEntry,
    LifecycleBreakdown,
    MixWarning,
    ModeComparison,
    ParamFit,
    ReportOptions,
    StudyTask,
    TaskInterval,
    TaskPhases,
    TaskSummary,
)
from wattsup.analysis.query import Source
from wattsup.errors import InvalidInput, WattsupError


@dataclass
class ReportData:
    options: ReportOptions
    location: str
    generated_at: datetime
    runs: int
    summary: list[TaskSummary]
    intervals: dict[str, TaskInterval]
    study: list[StudyTask]
    params: list[ParamFit]
    modes: list[ModeComparison]
    phases: list[TaskPhases]
    lengths: list[FamilyFit]
    lifecycle: LifecycleBreakdown | None
    lifecycle_note: str
    leaderboards: dict[str, list[LeaderboardEntry]]
    warnings: list[MixWarning]
    notes: list[str] = field(default_factory=list)
    modelled: str | None = None
    """The label of modelled figures (see :meth:`wattsup.analysis.ModelledShare.note`), None if none is."""


def collect(
    source: Source,
    options: ReportOptions,
    *,
    location: str = "",
    params: Mapping[str, int] | None = None,
) -> ReportData:
    """Run every analysis the report needs. Raises :class:`InvalidInput` when the selection is empty."""
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
    study = an.study_figure(source, sel, metric)
    scenario = options.scenario
    lifecycle = None
    note = ""
    if scenario.task is None and scenario.model is None and scenario.kwh_per_1k is None:
        counts = Counter({t.task: len(t.models) for t in study})
        if counts:
            scenario = scenario.model_copy(update={"task": counts.most_common(1)[0][0]})
    try:
        lifecycle = an.lifecycle(source, scenario, sel, metric)
    except WattsupError as err:
        note = f"life-cycle figure not drawn: {err}"
    options = replace(options, scenario=scenario)
    return ReportData(
        options=options,
        location=location,
        generated_at=datetime.now(UTC),
        runs=facets.runs,
        summary=summary,
        intervals={t.task: t for t in an.task_intervals(source, sel, metric)},
        study=study,
        params=an.energy_vs_params(source, sel, metric, params=params),
        modes=an.multi_vs_task(source, sel, metric),
        phases=an.phase_breakdown(source, sel, metric),
        lengths=[f for f in an.output_length_vs_energy(source, sel, metric) if f.family != "unknown"],
        lifecycle=lifecycle,
        lifecycle_note=note,
        leaderboards={s.task: an.leaderboard(source, s.task, sel, metric) for s in summary},
        warnings=an.mixed_method_warnings(source, sel),
        modelled=an.modelled_share(source, sel, metric).note(),
    )
