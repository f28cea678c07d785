"""The run record: what one benchmark run was (its configuration), what it measured, and where it ran.

``RunConfig`` identifies a configuration (its hash drives resume and dedup); ``RunRecord`` is what the
results store keeps. Energies are joules inside; kWh per 1,000 inferences is derived at the edge. The
harness (:mod:`wattsup.bench`) writes records and the store (:mod:`wattsup.results`) keeps them; both
import them from here.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from wattsup.errors import InvalidInput
from wattsup.meter.measurement import JOULES_PER_KWH, Measurement
from wattsup.records.settings import (
    FAMILIES,
    AnySettings,
    EncoderSettings,
    Family,
    LegacySettings,
    TaskSettings,
    given,
    problem,
    read,
    setting_names,
)
from wattsup.records.tasks import family_of

WeightsSource = Literal["pretrained", "random"]
RunStatus = Literal["ok", "failed"]


class RunConfig(BaseModel):
    """One benchmark configuration. Two runs with the same ``config_hash`` measured the same thing."""

    model_config = ConfigDict(frozen=True)

    task: str
    model: str = Field(description="Hub id, local directory, or catalog name")
    weights: WeightsSource = "pretrained"
    dataset: str = Field(description="dataset profile name, Hub dataset id, or local path")
    n: int = Field(default=1000, ge=1, description="inferences per repetition")
    batch_size: int = Field(default=1, ge=1)
    warmup: int = Field(default=10, ge=0, description="inferences run before metering, not counted")
    reps: int = Field(default=3, ge=1)
    dtype: str = "float32"
    device: str = "cpu"
    seed: int = 0
    max_new_tokens: int | None = Field(
        default=None, ge=1, description="fixed generation length (min = max, EOS off)"
    )
    mode: Literal["task-specific", "zero-shot"] = "task-specific"
    settings: TaskSettings = Field(
        default_factory=EncoderSettings,
        description="the task family's settings; given as a plain mapping (``extra``, as records stored "
        "before the settings were typed have them), they are read into the family of the task",
    )

    @model_validator(mode="before")
    @classmethod
    def _typed_settings(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        extra = data.pop("extra", None)
        raw = data.get("settings", extra)
        if raw is None or isinstance(raw, Mapping):
            data["settings"] = _family_settings(
                str(data.get("task", "")), str(data.get("mode", "task-specific")), dict(raw or {})
            )
        return data

    @field_serializer("settings")
    def _given_settings(self, settings: AnySettings) -> dict[str, Any]:
        """The family and the settings given, not the defaults: a record read back hashes as it was."""
        if isinstance(settings, LegacySettings):
            return {"family": "legacy", "values": given(settings)}
        return {"family": settings.family, **given(settings)}

    def revised(self, **changes: Any) -> RunConfig:
        """This configuration with ``changes``, validated again: its settings are read anew into the family
        of the task and mode it now has (an imported run's stay imported)."""
        data = self.model_dump(exclude={"settings"}) | changes
        if "settings" not in changes:
            kept = given(self.settings)
            data["settings"] = {"family": "imported", **kept} if self.settings.family == "imported" else kept
        return RunConfig.model_validate(data)

    def config_hash(self) -> str:
        dumped = self.model_dump(mode="json", exclude={"settings"})
        dumped["extra"] = given(self.settings)  # the key and content the hash had before settings were typed
        blob = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Repetition(BaseModel):
    """One metered repetition of ``n`` inferences: the whole window with its phases."""

    index: int
    measurement: Measurement
    inferences: int
    latencies_s: list[float] = Field(default_factory=list, description="per inference (or batch) latency")
    output_units: int | None = Field(
        default=None, description="tokens generated, images produced, ... in total"
    )


class Provenance(BaseModel):
    """Where and how a run was measured, so a figure can be compared with published ones."""

    hostname: str = ""
    os: str = ""
    python: str = ""
    cpu_model: str = ""
    cpu_count: int | None = None
    ram_gb: float | None = None
    gpus: list[str] = Field(default_factory=list, description="GPU names, e.g. 'NVIDIA H100 80GB HBM3'")
    gpu_driver: str | None = None
    cuda: str | None = None
    libraries: dict[str, str] = Field(default_factory=dict, description="package -> version")
    sensors: dict[str, str] = Field(default_factory=dict, description="component -> method and sensor")
    weights_source: str = Field(
        default="", description="hub (revision), local path, or 'random (catalog config)'"
    )
    input_source: str = Field(
        default="", description="hub dataset + split + rows, local file, or synthetic profile"
    )
    wattsup_version: str = ""
    torch_threads: int | None = Field(
        default=None, description="torch's intra-op threads, fixed by the harness (WATTSUP_TORCH_THREADS)"
    )
    cpu_scope: str = Field(
        default="", description="what the CPU figure charges: this run's process tree, or the whole machine"
    )
    omp_wait_policy: str | None = Field(
        default=None, description="OMP_WAIT_POLICY of the run (PASSIVE by default for isolated runs)"
    )
    # 'spare': CUDA and the meter's sampler were started before the run (while the previous one ran)
    worker_start: str | None = Field(
        default=None, description="'spare', 'forked' (fork server) or None (in-process)"
    )


class ReportedCarbon(BaseModel):
    """What the tool that measured an imported run computed itself (CodeCarbon's ``emissions`` and the
    place it charged them to), kept beside wattsup's own figures so the two can be compared."""

    tool: str = Field(description="the tool and its version, e.g. 'CodeCarbon 2.3.4'")
    emissions_kg: float | None = Field(default=None, ge=0, description="kg CO2e, as the tool computed")
    energy_kwh: float | None = Field(default=None, ge=0, description="the tool's total energy")
    country_iso_code: str | None = None
    country_name: str | None = None
    region: str | None = None
    cloud_provider: str | None = None
    cloud_region: str | None = None
    pue: float | None = Field(default=None, description="the PUE the tool applied, if it says")


class RunRecord(BaseModel):
    """A stored run: configuration, repetitions, provenance and status. Failed runs keep their reason."""

    run_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    config: RunConfig
    status: RunStatus = "ok"
    error: str | None = None
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    load: Measurement | None = Field(default=None, description="the model-load window, metered once")
    repetitions: list[Repetition] = Field(default_factory=list)
    provenance: Provenance = Field(default_factory=Provenance)
    n_params: int | None = Field(default=None, ge=0, description="model parameter count, if known")
    reported: ReportedCarbon | None = Field(
        default=None, description="what the measuring tool of an imported run computed itself"
    )

    @property
    def config_hash(self) -> str:
        return self.config.config_hash()

    @property
    def hardware(self) -> str | None:
        """What ran the work: the GPU named by the device (``cuda:1`` → the second GPU), else the CPU model;
        ``None`` when provenance does not say."""
        device = self.config.device.lower()
        gpus = self.provenance.gpus
        if gpus and not device.startswith("cpu"):
            _, _, index = device.partition(":")
            i = int(index) if index.isdigit() else 0
            return gpus[i] if i < len(gpus) else gpus[0]
        return self.provenance.cpu_model or None

    def kwh_per_1k(self, component_prefix: str | None = None, phase: str | None = None) -> list[float]:
        """kWh per 1,000 inferences for each repetition (whole window, or one phase; all components or
        those whose name starts with ``component_prefix``, e.g. ``"gpu"``)."""
        out = []
        for rep in self.repetitions:
            m = rep.measurement if phase is None else rep.measurement.phase(phase)
            e = sum(
                c.energy_j
                for c in m.components
                if component_prefix is None or c.name.startswith(component_prefix)
            )
            out.append(e / JOULES_PER_KWH / rep.inferences * 1000.0)
        return out


def _family(task: str, mode: str, raw: dict[str, Any]) -> Family:
    """The family of ``raw`` settings: an importer's where they name their ``source``, else the task's;
    for a task wattsup does not know, the first family that takes them."""
    if "source" in raw:
        return "imported"
    known = family_of(task, mode)
    if known is not None:
        return known
    fits = (f for f, model in FAMILIES.items() if f != "legacy" and set(raw) <= set(setting_names(model)))
    return next(fits, "encoder")


def _family_settings(task: str, mode: str, raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` settings tagged with their family (kept as they are where they carry it)."""
    if "family" in raw:
        return raw
    return read(_family(task, mode, raw), raw)


def checked_config(data: Mapping[str, Any]) -> RunConfig:
    """``RunConfig.model_validate(data)``, where settings that the task's family does not take are an
    InvalidInput on ``extra`` in one line (a setting it does not take names those it does)."""
    config = RunConfig.model_validate(data)
    if isinstance(config.settings, LegacySettings):
        raw = dict(config.settings.values)
        family = _family(config.task, config.mode, raw)
        said = problem(family, config.task, raw) if family != "legacy" else ""
        raise InvalidInput("extra", said or f"{config.task} takes no settings {sorted(raw)}")
    return config
