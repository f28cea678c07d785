"""The figure registry: every figure by name, from one query, as plotly JSON for the dashboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.report_stores import FULL_OPTIONS, filled_store
from tests.support.serving_records import store_results, two_models
from wattsup import figures
from wattsup.errors import NotFound
from wattsup.figures import FigureQuery
from wattsup.results import Store

ENERGY = ["energy_by_task", "energy_vs_params", "multi_vs_task", "phases", "output_length", "lifecycle"]
SERVING = ["serving_energy_vs_concurrency", "serving_energy_vs_rate", "serving_pareto", "serving_equal_load"]


@pytest.fixture
def query(tmp_path: Path) -> FigureQuery:
    db = tmp_path / "runs.db"
    filled_store(db).close()
    store_results(db, two_models())
    store = Store.open(str(db))
    return FigureQuery(store, FULL_OPTIONS.selection, FULL_OPTIONS.metric, FULL_OPTIONS.scenario)


def test_the_registry_names_every_figure_in_order() -> None:
    assert [s.name for s in figures.specs("energy")] == ENERGY
    assert [s.name for s in figures.specs("serving")] == SERVING
    assert [s.name for s in figures.specs()] == ENERGY + SERVING
    assert figures.spec("lifecycle").heading == "Life cycle"
    with pytest.raises(NotFound, match="did you mean 'phases'"):
        figures.spec("phase")


def test_every_figure_comes_as_plotly_json(query: FigureQuery) -> None:
    for name in ENERGY + SERVING:
        spec = figures.figure_json(name, query)
        assert spec is not None, name
        assert spec["data"] and spec["layout"]["title"]["text"], name
        json.dumps(spec)  # plain JSON: a web route returns it as it is
    by_task = figures.figure_json("energy_by_task", query)
    assert by_task is not None
    assert [t["name"] for t in by_task["data"]] == ["task-specific", "zero-shot", "mean over models"]
    assert by_task["layout"]["yaxis"]["type"] == "log"
    pareto = figures.figure_json("serving_pareto", query)
    assert pareto is not None
    names = [t["name"] for t in pareto["data"]]
    assert names == ["org/large", "org/large front", "org/small (modelled)", "org/small front"]
    front = pareto["data"][3]
    assert front["text"] == ["c=1 (static)", "c=4 (continuous)", "c=16 (static)"]
    assert any("modelled" in a["text"] for a in pareto["layout"]["annotations"])
    assert isinstance(query.source, Store)
    query.source.close()


def test_a_query_computes_each_analysis_once(query: FigureQuery) -> None:
    calls: list[str] = []
    first = query.once("k", lambda: calls.append("k") or 1)
    second = query.once("k", lambda: calls.append("k") or 2)
    assert (first, second, calls) == (1, 1, ["k"])
    figures.figure("serving_pareto", query)
    serving = query.once("serving", lambda: None)
    figures.figure("serving_equal_load", query)
    assert query.once("serving", lambda: None) is serving is not None
    assert isinstance(query.source, Store)
    query.source.close()


def test_nothing_to_draw_is_none(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "empty.db")) as store:
        q = FigureQuery(store)
        assert all(figures.figure(name, q) is None for name in ENERGY[:-1] + SERVING)
