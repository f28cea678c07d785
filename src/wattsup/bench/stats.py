"""Derived figures of a run: kWh per 1,000 inferences (total, GPU only, by phase), energy per output unit,
latency percentiles and throughput, per repetition, with a mean and a Student-t confidence interval across
repetitions. Pure functions over a :class:`~wattsup.records.RunRecord`."""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from wattsup.meter.measurement import JOULES_PER_KWH, Measurement
from wattsup.records import RunRecord

# two-sided 95% Student t quantiles (t_{0.975, df}) for df = 1..30; beyond, the normal value
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
Z975 = 1.959964


def t_quantile_975(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom (for a two-sided 95% interval)."""
    if df < 1:
        raise ValueError("a t quantile needs at least one degree of freedom")
    if df <= len(_T975):
        return _T975[df - 1]
    return Z975 + 2.4 / df  # within 0.002 of the exact value for df > 30


@dataclass(frozen=True)
class Estimate:
    """A mean across repetitions with its 95% confidence interval (None bounds for a single repetition)."""

    mean: float
    ci95_low: float | None
    ci95_high: float | None
    values: tuple[float, ...]

    @property
    def n(self) -> int:
        return len(self.values)


def mean_ci(values: list[float]) -> Estimate:
    """Mean and 95% interval of ``values`` (at least one).

    Energies, powers, times and rates are positive, and so is every bound of their interval: where all
    values are positive the Student-t interval is taken on their logarithms and put around the mean,
    ``[m·e^-h, m·e^h]`` with ``h = t·sd(log x)/√n`` (asymmetric, never below zero; for a small spread the
    same as the usual interval). Values with a zero get the usual interval, cut at zero when none is
    negative."""
    if not values:
        raise ValueError("no values to summarise")
    m = statistics.fmean(values)
    n = len(values)
    if n < 2:
        return Estimate(m, None, None, tuple(values))
    t = t_quantile_975(n - 1)
    if all(v > 0 for v in values):
        h = t * statistics.stdev(math.log(v) for v in values) / math.sqrt(n)
        return Estimate(m, m * math.exp(-h), m * math.exp(h), tuple(values))
    half = t * statistics.stdev(values) / math.sqrt(n)
    low = m - half
    if all(v >= 0 for v in values):
        low = max(low, 0.0)
    return Estimate(m, low, m + half, tuple(values))


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between order statistics."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _kwh_per_1k(energy_j: float, inferences: int) -> float:
    return energy_j / JOULES_PER_KWH / inferences * 1000.0


def _gpu_j(m: Measurement) -> float | None:
    gpus = [c.energy_j for c in m.components if c.name.startswith("gpu")]
    return sum(gpus) if gpus else None


@dataclass(frozen=True)
class RepStats:
    """The figures of one repetition."""

    index: int
    inferences: int
    duration_s: float
    energy_kwh_per_1k: float
    gpu_energy_kwh_per_1k: float | None
    phases_kwh_per_1k: dict[str, float]
    output_units: int | None
    energy_j_per_unit: float | None
    latency_p50_s: float | None
    latency_p95_s: float | None
    throughput_per_s: float


@dataclass(frozen=True)
class RunSummary:
    """Per-repetition figures and their means with 95% intervals. GPU figures are None where no GPU was
    metered (unknown, not zero)."""

    task: str
    model: str
    unit: str
    reps: list[RepStats]
    energy_kwh_per_1k: Estimate
    gpu_energy_kwh_per_1k: Estimate | None
    phases_kwh_per_1k: dict[str, Estimate]
    energy_j_per_unit: Estimate | None
    latency_p50_s: Estimate | None
    latency_p95_s: Estimate | None
    throughput_per_s: Estimate
    methods: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rep_stats(
    index: int, m: Measurement, inferences: int, latencies_s: list[float], output_units: int | None
) -> RepStats:
    phases: dict[str, float] = {}
    for p in m.walk():
        if p is not m and p.name not in phases:
            phases[p.name] = _kwh_per_1k(p.total_energy_j, inferences)
    gpu = _gpu_j(m)
    return RepStats(
        index=index,
        inferences=inferences,
        duration_s=m.duration_s,
        energy_kwh_per_1k=_kwh_per_1k(m.total_energy_j, inferences),
        gpu_energy_kwh_per_1k=None if gpu is None else _kwh_per_1k(gpu, inferences),
        phases_kwh_per_1k=phases,
        output_units=output_units,
        energy_j_per_unit=m.total_energy_j / output_units if output_units else None,
        latency_p50_s=percentile(latencies_s, 50) if latencies_s else None,
        latency_p95_s=percentile(latencies_s, 95) if latencies_s else None,
        throughput_per_s=inferences / m.duration_s if m.duration_s > 0 else float("nan"),
    )


def _maybe(values: list[float | None]) -> Estimate | None:
    if not values or any(v is None for v in values):
        return None
    return mean_ci([float(v) for v in values if v is not None])


def summarize(record: RunRecord, unit: str = "") -> RunSummary:
    """The run's figures. A record without repetitions (a failed run) has none to summarise."""
    if not record.repetitions:
        raise ValueError(
            f"run {record.run_id} has no repetitions to summarise ({record.status}: {record.error})"
        )
    reps = [
        rep_stats(r.index, r.measurement, r.inferences, r.latencies_s, r.output_units)
        for r in record.repetitions
    ]
    names = list(dict.fromkeys(n for r in reps for n in r.phases_kwh_per_1k))
    methods = {c.name: str(c.method) for c in record.repetitions[0].measurement.components}
    return RunSummary(
        task=record.config.task,
        model=record.config.model,
        unit=unit,
        reps=reps,
        energy_kwh_per_1k=mean_ci([r.energy_kwh_per_1k for r in reps]),
        gpu_energy_kwh_per_1k=_maybe([r.gpu_energy_kwh_per_1k for r in reps]),
        phases_kwh_per_1k={n: mean_ci([r.phases_kwh_per_1k.get(n, 0.0) for r in reps]) for n in names},
        energy_j_per_unit=_maybe([r.energy_j_per_unit for r in reps]),
        latency_p50_s=_maybe([r.latency_p50_s for r in reps]),
        latency_p95_s=_maybe([r.latency_p95_s for r in reps]),
        throughput_per_s=mean_ci([r.throughput_per_s for r in reps]),
        methods=methods,
    )
