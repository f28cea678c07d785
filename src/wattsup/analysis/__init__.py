"""Analyses of stored runs: summaries, leaderboards, regressions, uncertainty, star ratings, labels and
life-cycle figures. The CLI (``wattsup summary``, ``wattsup label``, ``wattsup report``) and the web
dashboard both call these functions; they hold no business logic of their own.

Conventions (stable API):

- Every function reading runs takes a *source* (a :class:`~wattsup.results.Store` or a SQLAlchemy
  ``Engine``), an optional :class:`Selection` (filters; ``ok`` runs only by default) and an optional
  :class:`Metric` (whole window or one phase; all components or one class).
- Results are frozen pydantic models (:mod:`wattsup.analysis.types`); ``.model_dump(mode="json")``
  gives plain data. Energies are kWh per 1,000 inferences (``unit`` says so on every result).
- Aggregation happens in SQL: per (task, model, dataset) over runs, then per (task, model) over
  datasets, then per task over models. Python only post-processes the aggregated rows.
- Unknown is ``None`` (and said so), never ``0``. Bad arguments raise
  :class:`~wattsup.errors.InvalidInput` naming the command-line flag.

Functions::

    facets(source, selection=None) -> Facets
    summary_by_task(source, selection=None, metric=Metric()) -> list[TaskSummary]
    model_energies(source, selection=None, metric=Metric()) -> list[ModelEnergy]
    leaderboard(source, task, selection=None, metric=Metric(), *, hardware_class=None,
                limit=None) -> list[LeaderboardEntry]
    study_figure(source, selection=None, metric=Metric()) -> list[StudyTask]
    phase_breakdown(source, selection=None, metric=Metric()) -> list[TaskPhases]
    energy_vs_params(source, selection=None, metric=Metric(), *, params=None) -> list[ParamFit]
    read_model_parameters(path) -> dict[str, int]
    multi_vs_task(source, selection=None, metric=Metric()) -> list[ModeComparison]
    output_length_vs_energy(source, selection=None, metric=Metric(), *, families=None) -> list[FamilyFit]
    model_family(model) -> str
    bootstrap_ci(values, *, confidence=0.95, resamples=2000, seed=0) -> ConfidenceInterval
    task_intervals(source, selection=None, metric=Metric(), *, confidence=0.95, resamples=2000,
                   seed=0) -> list[TaskInterval]
    mixed_method_warnings(source, selection=None) -> list[MixWarning]
    modelled_share(source, selection=None, metric=DEFAULT_METRIC) -> ModelledShare
    hardware_class(hardware) -> str
    star_ratings(source, selection=None, metric=Metric(), *, size_classes=True) -> list[StarRating]
    energy_label(source, model, task, selection=None, metric=Metric()) -> EnergyLabel
    label_svg(label) -> str
    write_label(label, out) -> Path                      # .svg or .png
    run_details(source, run_id) -> RunDetails            # run_id may be a unique prefix
    compare_runs(source, run_ids, metric=Metric()) -> Comparison
    parity(source, training_kwh, selection=None, metric=Metric(), *, finetune_kwh=0.0,
           queries_per_day=None) -> list[ParityRow]
    lifecycle(source, scenario, selection=None, metric=Metric()) -> LifecycleBreakdown
    export_rows(rows, out, fmt=None) -> int               # CSV, Parquet, JSON, JSON Lines
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wattsup.analysis.types import (
    COMPONENTS,
    DEFAULT_METRIC,
    LOAD_PHASE,
    UNIT_PER_1K,
    UNIT_PER_LOAD,
    Comparison,
    ComparisonRow,
    Component,
    ConfidenceInterval,
    DatasetComparison,
    EnergyLabel,
    Facets,
    FamilyFit,
    LeaderboardEntry,
    LengthPoint,
    LifecycleBreakdown,
    Metric,
    MixWarning,
    ModeComparison,
    ModelEnergy,
    ParamFit,
    ParamPoint,
    ParityRow,
    PhaseComparison,
    PhaseEnergy,
    ReportOptions,
    RunDetails,
    Scenario,
    Selection,
    StarRating,
    StudyTask,
    TaskInterval,
    TaskPhases,
    TaskSummary,
)
from wattsup.lazy import lazy_exports

if TYPE_CHECKING:
    from wattsup.analysis.export import export_rows
    from wattsup.analysis.footprints import lifecycle, parity
    from wattsup.analysis.labels import energy_label, label_svg, write_label
    from wattsup.analysis.lengths import model_family, output_length_vs_energy
    from wattsup.analysis.modes import multi_vs_task
    from wattsup.analysis.params import energy_vs_params, read_model_parameters
    from wattsup.analysis.query import Source
    from wattsup.analysis.ratings import hardware_class, star_ratings
    from wattsup.analysis.runs import compare_runs, run_details
    from wattsup.analysis.summary import (
        facets,
        leaderboard,
        model_energies,
        phase_breakdown,
        study_figure,
        summary_by_task,
    )
    from wattsup.analysis.uncertainty import (
        ModelledShare,
        bootstrap_ci,
        mixed_method_warnings,
        modelled_share,
        task_intervals,
    )

__all__ = [
    "COMPONENTS",
    "DEFAULT_METRIC",
    "LOAD_PHASE",
    "UNIT_PER_1K",
    "UNIT_PER_LOAD",
    "Comparison",
    "ComparisonRow",
    "Component",
    "ConfidenceInterval",
    "DatasetComparison",
    "EnergyLabel",
    "Facets",
    "FamilyFit",
    "LeaderboardEntry",
    "LengthPoint",
    "LifecycleBreakdown",
    "Metric",
    "MixWarning",
    "ModeComparison",
    "ModelEnergy",
    "ModelledShare",
    "ParamFit",
    "ParamPoint",
    "ParityRow",
    "PhaseComparison",
    "PhaseEnergy",
    "ReportOptions",
    "RunDetails",
    "Scenario",
    "Selection",
    "Source",
    "StarRating",
    "StudyTask",
    "TaskInterval",
    "TaskPhases",
    "TaskSummary",
    "bootstrap_ci",
    "compare_runs",
    "energy_label",
    "energy_vs_params",
    "export_rows",
    "facets",
    "hardware_class",
    "label_svg",
    "leaderboard",
    "lifecycle",
    "mixed_method_warnings",
    "model_energies",
    "model_family",
    "modelled_share",
    "multi_vs_task",
    "output_length_vs_energy",
    "parity",
    "phase_breakdown",
    "read_model_parameters",
    "run_details",
    "star_ratings",
    "study_figure",
    "summary_by_task",
    "task_intervals",
    "write_label",
]

_LAZY = {
    "export_rows": "wattsup.analysis.export",
    "energy_label": "wattsup.analysis.labels",
    "label_svg": "wattsup.analysis.labels",
    "write_label": "wattsup.analysis.labels",
    "model_family": "wattsup.analysis.lengths",
    "output_length_vs_energy": "wattsup.analysis.lengths",
    "lifecycle": "wattsup.analysis.footprints",
    "parity": "wattsup.analysis.footprints",
    "multi_vs_task": "wattsup.analysis.modes",
    "energy_vs_params": "wattsup.analysis.params",
    "read_model_parameters": "wattsup.analysis.params",
    "Source": "wattsup.analysis.query",
    "hardware_class": "wattsup.analysis.ratings",
    "star_ratings": "wattsup.analysis.ratings",
    "compare_runs": "wattsup.analysis.runs",
    "run_details": "wattsup.analysis.runs",
    "facets": "wattsup.analysis.summary",
    "leaderboard": "wattsup.analysis.summary",
    "model_energies": "wattsup.analysis.summary",
    "phase_breakdown": "wattsup.analysis.summary",
    "study_figure": "wattsup.analysis.summary",
    "summary_by_task": "wattsup.analysis.summary",
    "bootstrap_ci": "wattsup.analysis.uncertainty",
    "mixed_method_warnings": "wattsup.analysis.uncertainty",
    "ModelledShare": "wattsup.analysis.uncertainty",
    "modelled_share": "wattsup.analysis.uncertainty",
    "task_intervals": "wattsup.analysis.uncertainty",
}

# Submodules load on first use: importing the package costs no SQLAlchemy or matplotlib.
__getattr__ = lazy_exports(__name__, _LAZY)
