"""The serving analyses over a real SQLite store filled through the serving store's API: energy per output
token against the load, the latency–energy Pareto front per model, models at equal load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.serving_records import level, result, store_results, two_models
from wattsup.analysis.serving import pareto_front, serving_analysis, serving_points
from wattsup.errors import InvalidInput
from wattsup.results import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = tmp_path / "serving.db"
    store_results(db, two_models())
    return Store.open(str(db))


def test_points_keep_the_newest_run_of_each_model_engine_and_level(store: Store) -> None:
    points = serving_points(store)
    small_c1 = [p for p in points if p.model == "org/small" and p.engine == "static" and p.label == "c=1"]
    assert [p.j_per_token for p in small_c1] == [0.40]  # the run 5 minutes later replaced 0.50
    assert len(points) == 10 and {p.model for p in serving_points(store, model="org/large")} == {"org/large"}
    store.close()


def test_energy_per_token_against_concurrency_and_rate_per_model_and_engine(store: Store) -> None:
    a = serving_analysis(store)
    curves = {(c.model, c.engine, c.kind): c for c in a.curves}
    small = curves[("org/small", "static", "concurrency")]
    assert [(p.value, p.j_per_token) for p in small.points] == [(1, 0.40), (4, 0.20), (16, 0.12), (32, 0.15)]
    large = curves[("org/large", "static", "concurrency")]
    assert [p.value for p in large.points] == [1, 4]  # c=64 has no J/token figure: on no curve, never 0
    rate = curves[("org/large", "http", "rate")]
    assert [(p.value, p.j_per_token) for p in rate.points] == [(0.5, 1.5), (2, 0.9)]
    assert curves[("org/small", "continuous", "concurrency")].points[0].modelled
    store.close()


def test_the_pareto_front_lists_the_levels_no_other_beats(store: Store) -> None:
    fronts = {f.model: f for f in serving_analysis(store).fronts}
    small = fronts["org/small"]
    assert [(p.label, p.engine) for p in small.front] == [
        ("c=1", "static"),
        ("c=4", "continuous"),
        ("c=16", "static"),
    ]
    dominated = [p for p in small.points if not small.on_front(p)]
    assert sorted((p.label, p.engine) for p in dominated) == [("c=32", "static"), ("c=4", "static")]
    tpot = serving_analysis(store, latency="tpot").fronts[0]
    assert tpot.latency == "tpot" and len(tpot.front) == 1  # equal TPOTs: the least energy wins
    with pytest.raises(InvalidInput, match="--latency"):
        serving_analysis(store, latency="p99")
    store.close()


def test_pareto_front_leaves_out_unknowns(tmp_path: Path) -> None:
    run = result("m", "static", [level("concurrency", 1, 1.0, ttft_s=0.1), level("concurrency", 2, None)])
    store_results(tmp_path / "one.db", [run])
    with Store.open(str(tmp_path / "one.db")) as store:
        points = serving_points(store)
    assert [p.label for p in pareto_front(points, "ttft")] == ["c=1"]
    assert pareto_front([], "ttft") == []


@pytest.mark.filterwarnings("ignore:busy host")  # a shared test machine: the meter says so
def test_a_real_serving_run_is_analysed(tmp_path: Path) -> None:
    """A result of the static engine (tiny random-weight GPT-2 on the CPU), stored as ``wattsup serve``
    stores it."""
    from wattsup.serving import ServeConfig, parse_levels, run_serving

    cfg = ServeConfig(
        engine="static", levels=parse_levels("1", None), model="tiny/gpt2", requests=4, max_output_tokens=4
    )
    store_results(tmp_path / "real.db", [run_serving(cfg)])
    with Store.open(str(tmp_path / "real.db")) as store:
        (point,) = serving_analysis(store).points
    assert point.model == "tiny/gpt2" and point.engine == "static" and point.label == "c=1"
    assert point.method and (point.j_per_token is None or point.j_per_token > 0)


def test_models_compared_at_equal_load(store: Store) -> None:
    levels = {lv.label: lv for lv in serving_analysis(store).equal_load}
    assert set(levels) == {"c=1", "c=4"}  # c=16, c=32, c=64 and the rates have one model each
    c4 = levels["c=4"]
    assert [(p.model, p.engine, p.j_per_token) for p in c4.rows] == [
        ("org/small", "continuous", 0.18),
        ("org/small", "static", 0.20),
        ("org/large", "static", 1.1),
    ]
    assert [p.method for p in c4.rows] == ["counter+modeled", "counter", "counter"]
    store.close()


def test_an_empty_store_has_no_serving_analysis(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "empty.db")) as store:
        a = serving_analysis(store)
    assert a.runs == 0 and a.points == [] and a.fronts == [] and a.equal_load == []
