"""Derived statistics: kWh per 1,000, GPU-only, phases, per unit, percentiles, Student-t intervals."""

from __future__ import annotations

import itertools
import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattsup.bench import stats
from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import Repetition, RunConfig, RunRecord


def comp(name: str, j: float) -> ComponentEnergy:
    return ComponentEnergy(name=name, energy_j=j, method="counter", error_bound_j=0.0)


def window(
    gpu_j: float | None, cpu_j: float, phases: dict[str, float], duration_s: float = 10.0
) -> Measurement:
    comps = [comp("cpu", cpu_j)] + ([comp("gpu:0", gpu_j)] if gpu_j is not None else [])
    ph = [
        Measurement(name=k, start_s=0, duration_s=1, components=[comp("cpu", v)]) for k, v in phases.items()
    ]
    return Measurement(name="inference", start_s=0, duration_s=duration_s, components=comps, phases=ph)


def record(ms: list[Measurement], n: int = 1000, units: int | None = 2000) -> RunRecord:
    cfg = RunConfig(task="text-classification", model="m", dataset="imdb", n=n, reps=len(ms))
    return RunRecord(
        config=cfg,
        repetitions=[
            Repetition(
                index=i,
                measurement=m,
                inferences=n,
                latencies_s=[0.01 * (k + 1) for k in range(100)],
                output_units=units,
            )
            for i, m in enumerate(ms)
        ],
    )


def test_kwh_per_1k_total_gpu_and_phases() -> None:
    # 3.6 MJ per 1,000 inferences is 1 kWh per 1,000
    r = record([window(2.7e6, 0.9e6, {"forward": 1.8e6, "preprocess": 0.36e6})] * 3)
    s = stats.summarize(r, "input token")
    assert s.energy_kwh_per_1k.mean == pytest.approx(1.0)
    assert s.gpu_energy_kwh_per_1k is not None and s.gpu_energy_kwh_per_1k.mean == pytest.approx(0.75)
    assert s.phases_kwh_per_1k["forward"].mean == pytest.approx(0.5)
    assert s.phases_kwh_per_1k["preprocess"].mean == pytest.approx(0.1)
    assert s.energy_j_per_unit is not None and s.energy_j_per_unit.mean == pytest.approx(3.6e6 / 2000)
    assert s.throughput_per_s.mean == pytest.approx(100.0)
    assert s.energy_kwh_per_1k.ci95_low == pytest.approx(1.0)  # no spread, no width
    assert r.kwh_per_1k() == pytest.approx([1.0] * 3)  # agrees with the schema's own figure


def test_gpu_is_unknown_not_zero_without_a_gpu() -> None:
    s = stats.summarize(record([window(None, 3.6e6, {})] * 2))
    assert s.gpu_energy_kwh_per_1k is None


def test_interval_uses_student_t_on_the_log_scale() -> None:
    xs = [1.0, 2.0, 3.0]
    e = stats.mean_ci(xs)
    # positive figures: t(0.975, 2) × sd(log x) / sqrt(3), put around the mean as a factor
    h = 4.303 * statistics.stdev(math.log(x) for x in xs) / 3**0.5
    assert e.mean == 2.0
    assert e.ci95_low == pytest.approx(2.0 * math.exp(-h), rel=1e-4)
    assert e.ci95_high == pytest.approx(2.0 * math.exp(h), rel=1e-4)
    one = stats.mean_ci([5.0])
    assert one.ci95_low is None and one.ci95_high is None


def test_interval_of_an_energy_never_goes_below_zero() -> None:
    """Two noisy repetitions (the busy-host case that gave a negative bound): still above zero."""
    e = stats.mean_ci([3.8e-05, 2.2e-04])
    assert e.ci95_low is not None and e.ci95_low > 0 and e.ci95_high is not None and e.ci95_high > e.mean
    with_zero = stats.mean_ci([0.0, 1.0, 5.0])
    assert with_zero.ci95_low == 0.0
    # where the spread is small, the same as the usual symmetric interval
    tight = stats.mean_ci([100.0, 101.0, 99.0, 100.5])
    half = 3.182 * statistics.stdev([100.0, 101.0, 99.0, 100.5]) / 2
    assert tight.ci95_high == pytest.approx(tight.mean + half, rel=1e-3)


def test_latency_percentiles() -> None:
    s = stats.summarize(record([window(None, 1.0, {})]))
    assert s.latency_p50_s is not None and s.latency_p50_s.mean == pytest.approx(0.505)
    assert s.latency_p95_s is not None and s.latency_p95_s.mean == pytest.approx(0.9505)


def test_failed_run_has_nothing_to_summarise() -> None:
    r = RunRecord(config=RunConfig(task="t", model="m", dataset="d"), status="failed", error="boom")
    with pytest.raises(ValueError, match="boom"):
        stats.summarize(r)


def test_t_quantiles_shrink_towards_the_normal() -> None:
    qs = [stats.t_quantile_975(df) for df in range(1, 200)]
    assert all(a >= b for a, b in itertools.pairwise(qs))
    assert qs[-1] == pytest.approx(1.96, abs=0.02)


@given(
    st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50),
    st.floats(min_value=0, max_value=100),
)
def test_percentile_lies_within_the_data(values: list[float], q: float) -> None:
    p = stats.percentile(values, q)
    assert min(values) - 1e-6 <= p <= max(values) + 1e-6
