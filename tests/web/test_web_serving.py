"""The serving page and its API over a real SQLite store filled through the serving store's API: the
load levels with every figure the table shows, the model and latency filters, the four serving figures
from ``/api/figures/``, and the empty state that says how to make serving runs."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from conftest import HOSTS
from fastapi.testclient import TestClient
from web_serving import HOSTILE, fill, life_cycle

from wattsup import figures
from wattsup.figures import FigureQuery
from wattsup.results import Store
from wattsup.web import create_app

SERVING = [s.name for s in figures.specs("serving")]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("serving") / "runs.db"
    Store.open(str(db)).close()
    fill(db)
    with Store.open(str(db)) as store, TestClient(create_app(store, allowed_hosts=HOSTS)) as client:
        yield client, store


def get(client: TestClient, path: str, status: int = 200, **params: Any) -> Any:
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    return r.json()


def test_the_table_has_every_level_with_its_figures(site: Any) -> None:
    client, _ = site
    t = get(client, "/api/serving")
    assert (t["runs"], t["latency"], t["models"]) == (5, "ttft", sorted([HOSTILE, "org/small"]))
    rows = {(r["model"], r["engine"], r["level"]): r for r in t["levels"]}
    assert len(rows) == len(t["levels"]) == 9  # the re-run c=4 of the static engine replaces the first
    newest = rows[("org/small", "static", "c=4")]
    lc = life_cycle()
    assert newest["j_per_token"] == 0.19 and newest["j_per_token_bound"] == 0.01
    assert (newest["gpu_power_w"], newest["ttft_p50_ms"], newest["tpot_p50_ms"]) == (250.0, 70.0, 20.0)
    assert newest["wh_per_request_active"] == lc["active"]["per_request"]["energy_wh"]
    assert newest["wh_per_request_comprehensive"] == lc["comprehensive"]["per_request"]["energy_wh"]
    assert newest["boundary_ratio"] == lc["ratio"] > 1
    assert newest["on_front"] is False  # the continuous engine's c=4 is faster and uses less energy
    continuous = rows[("org/small", "continuous", "c=4")]
    assert [continuous[k] for k in ("method", "modelled", "on_front")] == ["counter+modeled", True, True]
    unknown = rows[(HOSTILE, "static", "c=64")]  # unknown stays None, never 0
    figures_of = ("j_per_token", "gpu_power_w", "wh_per_request_active", "boundary_ratio")
    assert [unknown[k] for k in figures_of] == [None] * 4


def test_the_filters_pick_a_model_and_the_front_s_latency(site: Any) -> None:
    client, _ = site
    t = get(client, "/api/serving", serving_model="org/small", latency="tpot")
    assert {r["model"] for r in t["levels"]} == {"org/small"} and t["latency"] == "tpot"
    assert t["models"] == sorted([HOSTILE, "org/small"])  # the menu keeps every model
    bad = get(client, "/api/serving", 422, latency="p99")
    assert bad["message"].startswith("invalid request: latency:")


def test_the_serving_figures_are_the_registry_s(site: Any) -> None:
    client, store = site
    for name in SERVING:
        got = get(client, f"/api/figures/{name}")
        want = figures.figure_json(name, FigureQuery(store))
        assert got["figure"] == want and got["message"] is None, name
    tpot = get(client, "/api/figures/serving_pareto", serving_model="org/small", latency="tpot")
    assert tpot["figure"] == figures.figure_json(
        "serving_pareto", FigureQuery(store, serving_model="org/small", latency="tpot")
    )
    alone = get(client, "/api/figures/serving_equal_load", serving_model="org/small")
    assert alone == {
        "name": "serving_equal_load",
        "figure": None,
        "message": "No load level was measured for two models or more.",
    }


def test_the_page_shows_the_table_and_four_charts(site: Any) -> None:
    client, _ = site
    r = client.get("/serving", params={"serving_model": "org/small", "latency": "tpot"})
    assert r.status_code == 200
    page = r.text
    for name in SERVING:
        assert f'data-src="/api/figures/{name}?serving_model=org%2Fsmall&amp;latency=tpot"' in page
    assert '<a href="/serving" aria-current="page">Serving</a>' in page
    assert "Pareto front (TPOT)" in page and "0.19 ± 0.01" in page and "×1.56" in page
    assert HOSTILE not in page and html.escape(HOSTILE, quote=False) in page  # the menu's entry, as text


def test_an_empty_store_says_how_to_make_serving_runs(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "empty.db")) as store:
        client = TestClient(create_app(store, allowed_hosts=HOSTS))
        assert get(client, "/api/serving") == {"runs": 0, "latency": "ttft", "models": [], "levels": []}
        page = client.get("/serving").text
    assert "The store has no serving runs yet" in page and "wattsup serve --engine" in page
    assert 'class="chart"' not in page and "plotly" not in page
