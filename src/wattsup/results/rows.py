"""From a :class:`RunRecord` to the store's rows, and back to a typed run summary.

The headline columns are plain derivations of the record (means over its repetitions, per class of
component), kept as scalars so SQL can filter and aggregate them; the record itself stays the truth.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from wattsup.meter.measurement import JOULES_PER_KWH, Measurement
from wattsup.records import RunRecord

COMPONENT_CLASSES: dict[str, tuple[str, ...]] = {"gpu": ("gpu",), "cpu": ("cpu",), "ram": ("ram", "dram")}
"""Component classes of the per-class columns, by the part of the component name before ``:``."""


def component_class(name: str) -> str | None:
    """``"gpu"`` for ``gpu:0``, ``"cpu"`` for ``cpu`` or ``cpu:1``, ``"ram"`` for ``ram`` and ``dram:0``."""
    base = name.split(":", 1)[0].lower()
    for cls, prefixes in COMPONENT_CLASSES.items():
        if base in prefixes:
            return cls
    return None


def _per_1k(energy_j: float, inferences: int) -> float:
    return energy_j / JOULES_PER_KWH / inferences * 1000.0


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _stdev(values: list[float]) -> float | None:
    """The sample standard deviation (n - 1), or ``None`` below two values. Plain floats: the
    ``statistics`` module's exact arithmetic costs more than the store's bulk path can afford."""
    n = len(values)
    if n < 2:
        return None
    m = math.fsum(values) / n
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / (n - 1))


def headline(record: RunRecord) -> dict[str, Any]:
    """The headline figures of a run: kWh per 1,000 inferences (all components, and per class), its
    standard deviation across repetitions, error bound, duration and throughput. ``None`` when unknown."""
    reps = [r for r in record.repetitions if r.inferences > 0]
    total: list[float] = []
    bound: list[float] = []
    by_class: dict[str, list[float]] = {cls: [] for cls in COMPONENT_CLASSES}
    durations: list[float] = []
    rates: list[float] = []
    units: list[float] = []
    methods: dict[str, set[str]] = {}
    gpus: set[str] = set()
    for rep in reps:
        m = rep.measurement
        total.append(_per_1k(m.total_energy_j, rep.inferences))
        bound.append(_per_1k(m.total_error_bound_j, rep.inferences))
        sums: dict[str, float] = {}
        for c in m.components:
            methods.setdefault(c.name, set()).add(c.method)
            cls = component_class(c.name)
            if cls is not None:
                sums[cls] = sums.get(cls, 0.0) + c.energy_j
            if cls == "gpu":
                gpus.add(c.name)
        for cls, e in sums.items():
            by_class[cls].append(_per_1k(e, rep.inferences))
        durations.append(m.duration_s)
        if m.duration_s > 0:
            rates.append(rep.inferences / m.duration_s)
        if rep.output_units is not None:
            units.append(float(rep.output_units))
    return {
        "reps_measured": len(reps),
        "energy_kwh_per_1k": _mean(total),
        "energy_kwh_per_1k_std": _stdev(total),
        "gpu_energy_kwh_per_1k": _mean(by_class["gpu"]),
        "cpu_energy_kwh_per_1k": _mean(by_class["cpu"]),
        "ram_energy_kwh_per_1k": _mean(by_class["ram"]),
        "error_bound_kwh_per_1k": _mean(bound),
        "duration_s": _mean(durations),
        "inferences_per_s": _mean(rates),
        "output_units": _mean(units),
        "gpu_count": len(gpus) if reps else None,
        "sensor_methods": " ".join(f"{name}={'|'.join(sorted(ms))}" for name, ms in sorted(methods.items()))
        or None,
        "has_modeled": any("modeled" in ms for ms in methods.values()) if reps else None,
    }


def run_row(record: RunRecord, *, stored_at: datetime | None = None) -> dict[str, Any]:
    """The ``runs`` row of a record (its scalar columns; the record itself goes to ``run_records``)."""
    cfg = record.config
    prov = record.provenance
    row: dict[str, Any] = {
        "run_id": record.run_id,
        "config_hash": record.config_hash,
        "status": record.status,
        "error": record.error,
        "task": cfg.task,
        "model": cfg.model,
        "dataset": cfg.dataset,
        "weights": cfg.weights,
        "mode": cfg.mode,
        "device": cfg.device,
        "dtype": cfg.dtype,
        "batch_size": cfg.batch_size,
        "n": cfg.n,
        "reps": cfg.reps,
        "warmup": cfg.warmup,
        "seed": cfg.seed,
        "max_new_tokens": cfg.max_new_tokens,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "stored_at": stored_at or datetime.now(UTC),
        "hardware": record.hardware,
        "hostname": prov.hostname or None,
        "load_energy_j": record.load.total_energy_j if record.load is not None else None,
        "n_params": record.n_params,
        "wattsup_version": prov.wattsup_version or _own_version(),
        "reported_emissions_kg": record.reported.emissions_kg if record.reported else None,
        "reported_country": (record.reported.country_iso_code or None) if record.reported else None,
    }
    row.update(headline(record))
    return row


def _own_version() -> str:
    from wattsup import __version__

    return __version__


def _walk(m: Measurement, path: str, depth: int) -> Iterator[tuple[str, int, Measurement]]:
    yield path, depth, m
    for p in m.phases:
        yield from _walk(p, f"{path}/{p.name}" if path else p.name, depth + 1)


def phase_rows(record: RunRecord) -> list[dict[str, Any]]:
    """The ``phases`` rows of a record: every window of every repetition (``phase`` ``""`` is the whole
    window, nested phases are ``"generate/decode"``) × component; the model-load window has ``rep`` NULL."""
    windows: list[tuple[int | None, int | None, Measurement]] = []
    if record.load is not None:
        windows.append((None, None, record.load))
    windows.extend((rep.index, rep.inferences, rep.measurement) for rep in record.repetitions)
    out: list[dict[str, Any]] = []
    for rep_index, inferences, root in windows:
        for ordinal, (path, depth, m) in enumerate(_walk(root, "", 0)):
            for c in m.components:
                out.append(
                    {
                        "run_id": record.run_id,
                        "rep": rep_index,
                        "ordinal": ordinal,
                        "phase": path,
                        "depth": depth,
                        "component": c.name,
                        "energy_j": c.energy_j,
                        "method": c.method,
                        "error_bound_j": c.error_bound_j,
                        "duration_s": m.duration_s,
                        "inferences": inferences,
                    }
                )
    return out


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run as the ``runs`` table has it: configuration, where and when, and the headline figures
    (kWh per 1,000 inferences, means over repetitions). The full record is :meth:`Store.get`."""

    run_id: str
    config_hash: str
    status: str
    error: str | None
    task: str
    model: str
    dataset: str
    weights: str
    mode: str
    device: str
    dtype: str
    batch_size: int
    n: int
    reps: int
    warmup: int
    seed: int
    max_new_tokens: int | None
    started_at: datetime
    finished_at: datetime | None
    stored_at: datetime
    hardware: str | None
    gpu_count: int | None
    hostname: str | None
    sensor_methods: str | None
    has_modeled: bool | None
    reps_measured: int
    energy_kwh_per_1k: float | None
    energy_kwh_per_1k_std: float | None
    gpu_energy_kwh_per_1k: float | None
    cpu_energy_kwh_per_1k: float | None
    ram_energy_kwh_per_1k: float | None
    error_bound_kwh_per_1k: float | None
    duration_s: float | None
    inferences_per_s: float | None
    output_units: float | None
    load_energy_j: float | None
    n_params: int | None
    wattsup_version: str
    reported_emissions_kg: float | None = None
    reported_country: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> RunSummary:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes as ISO 8601 strings)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = v.isoformat() if isinstance(v, datetime) else v
        return out


def phase_table(record: RunRecord) -> list[dict[str, Any]]:
    """One row per window × phase × component, averaged over the repetitions (``window`` is ``"load"``
    for the model-load window, ``"rep"`` for the repetitions): mean energy, error bound and duration,
    and kWh per 1,000 inferences. In the order the phases ran."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in phase_rows(record):
        window = "load" if row["rep"] is None else "rep"
        groups.setdefault((window, row["phase"], row["component"]), []).append(row)
    out: list[dict[str, Any]] = []
    for (window, phase, component), rows in groups.items():
        per_1k = [_per_1k(r["energy_j"], r["inferences"]) for r in rows if r["inferences"]]
        out.append(
            {
                "window": window,
                "phase": phase,
                "depth": rows[0]["depth"],
                "component": component,
                "method": "|".join(sorted({r["method"] for r in rows})),
                "reps": len(rows),
                "energy_j": statistics.fmean(r["energy_j"] for r in rows),
                "error_bound_j": statistics.fmean(r["error_bound_j"] for r in rows),
                "duration_s": statistics.fmean(r["duration_s"] for r in rows),
                "kwh_per_1k": _mean(per_1k),
            }
        )
    return out
