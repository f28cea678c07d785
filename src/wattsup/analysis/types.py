"""The analysis API's types: what goes in (a :class:`Selection` of runs, an energy :class:`Metric`) and
what comes out (frozen pydantic models; ``.model_dump(mode="json")`` gives plain data for JSON, a table
or a web page).

Every energy figure is kWh per 1,000 inferences unless its ``unit`` says otherwise (the model-load
window is kWh per load). A figure that is not known is ``None``, never ``0``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic.dataclasses import dataclass as pydantic_dataclass

from wattsup.errors import InvalidInput
from wattsup.params import checked, param

Component = Literal["all", "gpu", "cpu", "ram"]
"""Which components an energy figure sums: every component, or one class (``gpu`` is ``gpu:0``,
``gpu:1``, ...; ``ram`` includes ``dram``)."""

COMPONENTS: tuple[str, ...] = ("all", "gpu", "cpu", "ram")

LOAD_PHASE = "load"
"""The phase name that selects the model-load window (:attr:`RunRecord.load`); its figure is kWh per
load, not per 1,000 inferences."""

UNIT_PER_1K = "kWh per 1,000 inferences"
UNIT_PER_LOAD = "kWh per model load"

MAX_TEXT = 512
"""The longest value of a text parameter (model ids, hardware names, globs)."""
MAX_VALUES = 50
"""The most values a repeatable parameter may have."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (NUL, tab, line breaks)")
    return value


def _mode(value: str) -> str:
    if value not in MODES and "*" not in value and "?" not in value:
        raise InvalidInput("--mode", f"must be task-specific or zero-shot, got {value!r}")
    return value


def _tuple(value: object) -> object:
    """Several values as a tuple (a selection is hashable: the dashboard's memo keys on it)."""
    return tuple(value) if isinstance(value, list) else value


Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_no_control)]
"""A text value: at most 512 characters, no control characters."""
Many = Annotated[tuple[Text, ...], BeforeValidator(_tuple), Field(max_length=MAX_VALUES)]
Values = Text | Many | None
"""One value, several (OR), or ``None`` (no constraint). A value with ``*`` or ``?`` is a
case-insensitive glob."""
MODES = ("task-specific", "zero-shot")
ModeText = Annotated[Text, AfterValidator(_mode)]
ModeValues = (
    ModeText | Annotated[tuple[ModeText, ...], BeforeValidator(_tuple), Field(max_length=MAX_VALUES)] | None
)


@checked
@pydantic_dataclass(frozen=True)
class Selection:
    """Which runs an analysis reads. Each field given narrows the selection (AND); a field may list
    several values (OR); values with ``*``/``?`` are case-insensitive globs. ``exclude_*`` drop runs
    matching any of their globs. Only ``ok`` runs by default (failed runs have no energy). Each field is
    declared once for the CLI's options and the dashboard's query parameters."""

    task: Values = param(None, "Only this task (globs: * and ?).")
    model: Values = param(None, "Only this model id (globs).")
    dataset: Values = param(None, "Only this dataset (globs).")
    hardware: Values = param(None, "Only this GPU or CPU model as stored (globs).")
    mode: ModeValues = param(
        None, "Only task-specific, or zero-shot (multi-purpose models prompted for the task) runs."
    )
    device: Values = param(None, "Only this device: cpu, cuda:0, ... (globs).")
    weights: Values = param(None, "Only this weights source: pretrained, or random (built from its config).")
    exclude_model: Many = param((), "Leave out models matching these globs.")
    exclude_dataset: Many = param((), "Leave out datasets matching these globs ('*_native').")
    status: Values = param("ok", "Only runs of this status (ok, failed).", cli=False)
    since: datetime | None = param(None, "Only runs started at or after (ISO 8601).")
    until: datetime | None = param(None, "Only runs started before (ISO 8601).")


@checked
@pydantic_dataclass(frozen=True)
class Metric:
    """Which energy figure: the whole repetition window (``phase=None``), one named phase (as stored in
    the ``phases`` table: ``"query model"``, ``"generate/decode"``, ...), or the model-load window
    (``phase="load"``); all components or one class."""

    phase: Text | None = param(
        None,
        "Energy of one phase ('query model', 'generate/decode', ...; 'load': the model-load window, "
        "per load) instead of the whole repetition window.",
    )
    component: Component = param("all", "All components, or one class: gpu, cpu or ram.")

    @field_validator("phase")
    @classmethod
    def _phase(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise InvalidInput("--phase", "is empty; give a phase name such as 'query model' or 'load'")
        return value

    @property
    def unit(self) -> str:
        return UNIT_PER_LOAD if self.phase == LOAD_PHASE else UNIT_PER_1K


DEFAULT_METRIC = Metric()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


# ---------------------------------------------------------------- summaries and leaderboards


class TaskSummary(_Frozen):
    """Per task: statistics over models of each model's mean energy (each model first averaged over
    its repetitions and datasets)."""

    task: str
    mean_kwh: float | None
    std_kwh: float | None = Field(description="sample standard deviation over models; None below 2 models")
    median_kwh: float | None
    min_kwh: float | None
    max_kwh: float | None
    models: int = Field(description="models with a known energy figure")
    runs: int
    unit: str = UNIT_PER_1K
    mixes_measured_and_modeled: bool | None = Field(
        default=None, description="whether any run adds measured and modelled components"
    )

    PUBLIC: ClassVar[frozenset[str]] = frozenset(
        {"task", "mean_kwh", "std_kwh", "median_kwh", "min_kwh", "max_kwh", "models"}
    )
    """The fields of the documented JSON object of ``wattsup summary --json``."""

    def to_public(self) -> dict[str, object]:
        """The documented JSON object of ``wattsup summary --json`` (its fields in declared order)."""
        return self.model_dump(include=set(self.PUBLIC))


class ModelEnergy(_Frozen):
    """One model on one task: its mean energy over datasets (each dataset averaged over its runs)."""

    task: str
    model: str
    mode: str = Field(description="task-specific | zero-shot | mixed")
    kwh: float | None
    std_kwh: float | None = Field(description="sample standard deviation over runs")
    min_kwh: float | None
    max_kwh: float | None
    runs: int
    datasets: int
    n_params: int | None
    hardware: str | None = Field(description="the hardware the runs used; several joined by ' | '")
    hardware_class: str
    output_units: float | None = Field(description="mean output units (tokens, images) per inference")
    has_modeled: bool | None
    latest: datetime | None = Field(description="when the latest run started")
    unit: str = UNIT_PER_1K


class LeaderboardEntry(_Frozen):
    """A row of a task's leaderboard: a model, its energy and its star rating."""

    rank: int
    task: str
    model: str
    mode: str
    kwh: float | None
    std_kwh: float | None
    runs: int
    datasets: int
    n_params: int | None
    hardware: str | None
    hardware_class: str
    stars: int | None = Field(description="1-5 within the task and hardware class; None when not rated")
    rating_note: str = ""
    has_modeled: bool | None
    latest: datetime | None
    unit: str = UNIT_PER_1K


class Facets(_Frozen):
    """The values present in the selected runs, for filter menus."""

    runs: int
    tasks: list[str]
    models: list[str]
    datasets: list[str]
    hardware: list[str]
    hardware_classes: list[str]
    modes: list[str]
    phases: list[str]


class StudyTask(_Frozen):
    """One task of the study's main figure: every model's energy (one point each), on a log axis."""

    task: str
    models: list[ModelEnergy]
    mean_kwh: float | None
    unit: str = UNIT_PER_1K


class PhaseEnergy(_Frozen):
    phase: str
    kwh: float | None = Field(
        description="mean over the task's models, a model without this phase counting zero"
    )
    models: int = Field(description="models that have this phase")


class TaskPhases(_Frozen):
    """A task's energy split by the top-level phases of its repetition windows (mean over models)."""

    task: str
    window_kwh: float | None = Field(description="mean over models of the whole window")
    phases: list[PhaseEnergy]
    unit: str = UNIT_PER_1K


# ---------------------------------------------------------------- regressions and comparisons


class ParamPoint(_Frozen):
    model: str
    n_params: int
    kwh: float = Field(description="the model's mean over datasets on the task, in the fit's unit")
    params_source: str = Field(description="'run' (the runs' stored n_params) or 'given' (the mapping's)")


class ParamFit(_Frozen):
    """Energy against parameter count within one task: log10(kWh) = slope·log10(params) + intercept."""

    task: str
    n: int
    slope: float | None = Field(description="None below 4 models or 2 distinct parameter counts")
    intercept: float | None
    r: float | None = Field(description="Pearson correlation of log10 energy and log10 parameters")
    r2: float | None
    spearman: float | None
    points: list[ParamPoint]
    missing_params: list[str] = Field(description="models with no known parameter count (left out)")
    unit: str = UNIT_PER_1K
    note: str = Field(default="", description="why there is no fit (too few models), else empty")


class DatasetComparison(_Frozen):
    dataset: str
    task_specific_kwh: float | None
    multi_purpose_kwh: float | None
    ratio: float | None = Field(description="multi-purpose / task-specific; None when either is unknown")
    task_specific_models: int
    multi_purpose_models: int


class ModeComparison(_Frozen):
    """Multi-purpose (zero-shot) against task-specific models on one task: ratio of the means over models."""

    task: str
    task_specific_kwh: float | None
    multi_purpose_kwh: float | None
    ratio: float | None
    task_specific_models: int
    multi_purpose_models: int
    per_dataset: list[DatasetComparison]
    unit: str = UNIT_PER_1K


class LengthPoint(_Frozen):
    model: str
    family: str
    task: str
    dataset: str
    output_units: float = Field(description="mean output tokens per inference")
    kwh: float


class FamilyFit(_Frozen):
    """Energy against output length for one model family: kWh per 1,000 = slope·tokens + intercept."""

    family: str
    n: int
    slope: float | None = Field(description="kWh per 1,000 inferences per extra output token")
    intercept: float | None
    r: float | None
    points: list[LengthPoint]
    unit: str = UNIT_PER_1K


# ---------------------------------------------------------------- uncertainty and warnings


class ConfidenceInterval(_Frozen):
    estimate: float
    low: float
    high: float
    confidence: float
    n: int
    resamples: int
    method: str = "percentile bootstrap"


class TaskInterval(_Frozen):
    """A bootstrap interval of a task's mean over models (resampling models)."""

    task: str
    models: int
    interval: ConfidenceInterval | None = Field(
        description="None below 5 models (a bootstrap of fewer is their min–max, not a 95% interval)"
    )
    unit: str = UNIT_PER_1K


class MixWarning(_Frozen):
    """Measured and modelled components added into one figure: the sum is part measurement, part estimate.
    ``runs`` counts the model's runs on the task that do so."""

    task: str
    model: str
    runs: int
    methods: str = Field(description="component=method pairs as stored, e.g. 'cpu=modeled gpu=sampled'")
    message: str


# ---------------------------------------------------------------- ratings and labels


class StarRating(_Frozen):
    task: str
    model: str
    hardware_class: str
    size_class: str | None = Field(description="A/B/C for text generation when sized (AI Energy Score)")
    kwh: float
    stars: int | None
    rank: int = Field(description="1 = least energy in its group")
    group_size: int
    note: str = ""


class EnergyLabel(_Frozen):
    """What an energy label shows for one model on one task."""

    model: str
    task: str
    kwh: float | None
    unit: str
    hardware: str | None
    hardware_class: str
    date: datetime | None
    stars: int | None
    rating_note: str
    runs: int
    group_size: int
    has_modeled: bool | None
    phase: str | None
    component: str


# ---------------------------------------------------------------- runs


class RunDetails(_Frozen):
    """One run for a details page: headline columns, per-phase table, warnings, full record."""

    run_id: str
    summary: dict[str, object] = Field(description="the run's row (RunSummary.to_dict())")
    phases: list[dict[str, object]] = Field(description="window x phase x component, averaged over reps")
    kwh_per_1k_by_rep: list[float]
    warnings: list[str]
    record: dict[str, object] = Field(description="the full RunRecord as JSON-ready data")


class ComparisonRow(_Frozen):
    run_id: str
    task: str
    model: str
    dataset: str
    hardware: str | None
    kwh: float | None
    ratio_to_first: float | None = Field(description="this run's figure / the first run's")
    kwh_ci95: list[float] | None = Field(
        default=None, description="95% interval of the figure (repetitions and the meter's bound; never < 0)"
    )
    differs_from_first: bool | None = Field(
        default=None, description="the intervals of this run and the first do not overlap"
    )
    duration_s: float | None
    inferences_per_s: float | None
    has_modeled: bool | None


class PhaseComparison(_Frozen):
    phase: str
    kwh: list[float | None] = Field(description="per run, in the order asked")


class Comparison(_Frozen):
    runs: list[ComparisonRow]
    phases: list[PhaseComparison]
    warnings: list[str]
    unit: str = UNIT_PER_1K


# ---------------------------------------------------------------- life cycle


class Scenario(_Frozen):
    """A deployment to assess: which runs give the energy per 1,000 inferences, and the site, scale and
    training that go with it (flags of ``wattsup report``)."""

    task: str | None = None
    model: str | None = None
    kwh_per_1k: float | None = Field(
        default=None, description="override; else the selected runs' mean (--kwh-per-1k)"
    )
    region: str | None = Field(default=None, description="--region")
    queries_per_day: float = Field(default=1_000_000.0, description="--queries-per-day")
    years: float = Field(default=1.0, description="--years")
    training_kwh: float | None = Field(default=None, description="--training-kwh")
    finetune_kwh: float = Field(default=0.0, description="--finetune-kwh")
    gpu: str | None = Field(default=None, description="--gpu: catalog GPU (default: from the runs)")
    pue: float | None = Field(default=None, description="--pue")


class LifecycleBreakdown(_Frozen):
    """Operational, embodied and construction carbon of training and of the deployment (kgCO2e)."""

    scenario: Scenario
    kwh_per_1k: float
    kwh_source: str
    gpu: str | None
    training_operational_kg: float | None
    training_embodied_kg: float | None
    inference_operational_kg: float
    inference_embodied_kg: float | None
    training_construction_kg: float | None = Field(
        default=None, description="data-centre construction, its own line (not in embodied)"
    )
    inference_construction_kg: float | None = None
    total_kg: float | None
    total_excluding_embodied_kg: float | None = Field(
        default=None, description="operational + construction: what is known when embodied is unknown"
    )
    parity_inferences: float | None
    parity_days: float | None
    notes: list[str]
    footprint: dict[str, object] = Field(description="the full wattsup.carbon Footprint")


class ParityRow(_Frozen):
    """Power Hungry Processing's cost parity for one model: inferences whose energy equals training."""

    task: str
    model: str
    kwh_per_1k: float
    training_kwh: float
    finetune_kwh: float
    parity_inferences: float | None
    parity_days: float | None = Field(description="at the given queries per day; None if not given")


@dataclass(frozen=True)
class ReportOptions:
    """What ``wattsup report`` draws: the selection, the metric and the life-cycle scenario."""

    selection: Selection = field(default_factory=Selection)
    metric: Metric = DEFAULT_METRIC
    scenario: Scenario = field(default_factory=Scenario)
    title: str = "wattsup report"
