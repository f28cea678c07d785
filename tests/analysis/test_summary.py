"""Summaries, leaderboards and model figures against plain-Python oracles, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.analysis_records import A100, H100, MIXED, record
from wattsup.analysis import (
    Metric,
    Selection,
    facets,
    leaderboard,
    model_energies,
    phase_breakdown,
    study_figure,
    summary_by_task,
)
from wattsup.errors import InvalidInput, NotFound
from wattsup.results import Store


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-15)


def test_summary_two_level_means(store: Store) -> None:
    # model a: datasets x (2 runs: 1, 3 -> 2) and y (1 run: 4) -> (2 + 4) / 2 = 3, not the run mean 8/3
    store.add_many(
        [
            record("t", "a", 1.0, dataset="x"),
            record("t", "a", 3.0, dataset="x"),
            record("t", "a", 4.0, dataset="y"),
            record("t", "b", [5.0, 7.0]),  # repetitions averaged within the run: 6
            record("t", "c", 10.0),
            record("t", "d", 1.0, status="failed"),  # no energy: not a model of the summary
            record("u", "a", 2.0),
        ]
    )
    rows = {r.task: r for r in summary_by_task(store)}
    t = rows["t"]
    means = [3.0, 6.0, 10.0]
    assert t.models == 3 and t.runs == 5
    assert _close(t.mean_kwh, statistics.fmean(means))
    assert _close(t.std_kwh, statistics.stdev(means))
    assert _close(t.median_kwh, 6.0)
    assert (t.min_kwh, t.max_kwh) == (3.0, 10.0)
    assert rows["u"].models == 1 and rows["u"].std_kwh is None  # one model: no spread, not 0
    assert t.to_public() == {
        "task": "t",
        "mean_kwh": t.mean_kwh,
        "std_kwh": t.std_kwh,
        "median_kwh": 6.0,
        "min_kwh": 3.0,
        "max_kwh": 10.0,
        "models": 3,
    }


def test_median_of_an_even_count(store: Store) -> None:
    store.add_many([record("t", m, v) for m, v in zip("abcd", (1.0, 2.0, 4.0, 8.0), strict=True)])
    (row,) = summary_by_task(store)
    assert row.median_kwh == 3.0


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(["m1", "m2", "m3", "m4", "m5"]),
        st.dictionaries(
            st.sampled_from(["d1", "d2", "d3"]),
            st.lists(st.floats(1e-6, 1e3, allow_nan=False), min_size=1, max_size=3),
            min_size=1,
        ),
        min_size=1,
    )
)
def test_summary_matches_python(data: dict[str, dict[str, list[float]]]) -> None:
    with Store.open("sqlite://") as store:
        store.add_many(
            [record("t", m, v, dataset=d) for m, ds in data.items() for d, vs in ds.items() for v in vs]
        )
        (row,) = summary_by_task(store)
    per_model = [statistics.fmean(statistics.fmean(vs) for vs in ds.values()) for ds in data.values()]
    assert row.models == len(per_model)
    assert _close(row.mean_kwh, statistics.fmean(per_model))
    assert row.median_kwh is not None and math.isclose(
        row.median_kwh, statistics.median(per_model), rel_tol=1e-9
    )
    if len(per_model) > 1:
        assert row.std_kwh is not None
        assert math.isclose(row.std_kwh, statistics.stdev(per_model), rel_tol=1e-6, abs_tol=1e-12)
    assert row.min_kwh == pytest.approx(min(per_model)) and row.max_kwh == pytest.approx(max(per_model))


def test_phase_load_and_component_metrics(store: Store) -> None:
    store.add_many(
        [
            record("t", "a", 2.0, phases={"prefill": 0.25, "decode": 0.75}, load_kwh=0.5, split=MIXED),
            record("t", "b", 4.0, phases={"prefill": 0.5, "decode": 0.5}, split=MIXED),
            record("t", "c", 1.0),  # no phases, GPU only
        ]
    )
    (prefill,) = summary_by_task(store, metric=Metric(phase="prefill"))
    assert prefill.models == 2  # c has no such phase: left out, not counted as zero
    assert _close(prefill.mean_kwh, (0.5 + 2.0) / 2)
    (load,) = summary_by_task(store, metric=Metric(phase="load"))
    assert load.models == 1 and load.unit == "kWh per model load"
    assert _close(load.mean_kwh, 0.5)
    (gpu,) = summary_by_task(store, metric=Metric(component="gpu"))
    assert _close(gpu.mean_kwh, (2.0 * 0.6 + 4.0 * 0.6 + 1.0) / 3)
    (cpu,) = summary_by_task(store, metric=Metric(component="cpu"))
    assert cpu.models == 2  # c has no CPU component: unknown, not zero
    (decode_gpu,) = summary_by_task(store, metric=Metric(phase="decode", component="gpu"))
    assert _close(decode_gpu.mean_kwh, (2.0 * 0.75 * 0.6 + 4.0 * 0.5 * 0.6) / 2)
    whole = summary_by_task(store)[0]
    assert whole.mixes_measured_and_modeled is True
    assert gpu.mixes_measured_and_modeled is False
    assert summary_by_task(store, metric=Metric(phase="decode"))[0].mixes_measured_and_modeled is True


def test_selection_filters_and_exclusions(store: Store) -> None:
    store.add_many(
        [
            record("t", "bert-base", 1.0, dataset="coco"),
            record("t", "bert-base", 100.0, dataset="coco_native"),
            record("t", "gpt2", 3.0, dataset="coco", mode="zero-shot"),
            record("t", "vit", 5.0, dataset="coco", hardware=H100),
        ]
    )
    sel = Selection(exclude_dataset=["*_native"], mode="task-specific", hardware="*A100*")
    (row,) = summary_by_task(store, sel)
    assert row.models == 1 and row.mean_kwh == 1.0
    (row,) = summary_by_task(store, Selection(model="BERT*"))  # globs are case-insensitive
    assert row.mean_kwh == pytest.approx((1.0 + 100.0) / 2)
    assert summary_by_task(store, Selection(task="nothing")) == []


def test_model_energies_and_study_figure(store: Store) -> None:
    store.add_many(
        [
            record("cheap", "a", [1.0, 1.0], n_params=10, output_units=2000),
            record("cheap", "a", 3.0, n_params=10, output_units=4000),
            record("dear", "b", 50.0, hardware=None),
        ]
    )
    models = {m.model: m for m in model_energies(store)}
    a = models["a"]
    assert a.runs == 2 and a.datasets == 1 and a.kwh == pytest.approx(2.0)
    assert a.std_kwh == pytest.approx(statistics.stdev([1.0, 3.0]))
    assert a.n_params == 10 and a.hardware == A100 and a.hardware_class == "A100"
    assert a.output_units == pytest.approx(3.0)  # tokens per inference: (2000 + 4000) / 2 / 1000
    assert models["b"].hardware is None and models["b"].hardware_class == "unknown"
    assert models["b"].n_params is None and models["b"].output_units is None
    fig = study_figure(store)
    assert [t.task for t in fig] == ["cheap", "dear"]  # ordered by mean energy
    f = facets(store)
    assert f.tasks == ["cheap", "dear"] and f.hardware_classes == ["A100"] and f.runs == 3


def test_phase_breakdown(store: Store) -> None:
    store.add_many([record("t", "a", 2.0, phases={"load model": 0.25, "query model": 0.75})])
    (t,) = phase_breakdown(store)
    assert t.window_kwh == pytest.approx(2.0)
    assert {p.phase: p.kwh for p in t.phases} == pytest.approx({"load model": 0.5, "query model": 1.5})


def test_phase_shares_never_pass_the_window_when_models_mix_phases(store: Store) -> None:
    # a classifier (forward) beside a zero-shot generator (generate): each phase is spent by one model
    store.add_many(
        [
            record("t", "classifier", 1.0, phases={"preprocess": 0.1, "forward": 0.9}),
            record("t", "generator", 3.0, mode="zero-shot", phases={"preprocess": 0.05, "generate": 0.95}),
        ]
    )
    (t,) = phase_breakdown(store)
    assert t.window_kwh == pytest.approx(2.0)
    kwh = {p.phase: p.kwh for p in t.phases}
    assert kwh == pytest.approx({"preprocess": (0.1 + 0.15) / 2, "forward": 0.9 / 2, "generate": 2.85 / 2})
    assert sum(kwh.values()) <= t.window_kwh + 1e-12  # was 119% of the window
    assert {p.phase: p.models for p in t.phases} == {"preprocess": 2, "forward": 1, "generate": 1}


def test_leaderboard_with_stars(store: Store) -> None:
    store.add_many(
        [record("t", f"m{i}", float(i + 1)) for i in range(10)] + [record("t", "h", 0.5, hardware=H100)]
    )
    rows = leaderboard(store, "t")
    assert [r.rank for r in rows] == list(range(1, 12))
    a100 = [r for r in rows if r.hardware_class == "A100"]
    assert [r.stars for r in a100] == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    (h,) = [r for r in rows if r.hardware_class == "H100"]
    assert h.stars is None and "at least 5" in h.rating_note  # one model on H100: not rated
    assert len(leaderboard(store, "t", hardware_class="h100")) == 1
    assert len(leaderboard(store, "t", limit=3)) == 3
    with pytest.raises(NotFound, match="unknown task 'x'"):
        leaderboard(store, "x")
    with pytest.raises(InvalidInput, match="--limit"):
        leaderboard(store, "t", limit=0)


def test_bad_metric_names_the_flag(sqlite_store: Store) -> None:
    with pytest.raises(InvalidInput, match="--component"):
        summary_by_task(sqlite_store, metric=Metric(component="disk"))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="--phase"):
        summary_by_task(sqlite_store, metric=Metric(phase=" "))


def test_engine_as_source(sqlite_store: Store) -> None:
    sqlite_store.add(record("t", "a", 1.0))
    assert summary_by_task(sqlite_store.engine)[0].mean_kwh == 1.0
    with pytest.raises(TypeError):
        summary_by_task("runs.db")  # type: ignore[arg-type]
