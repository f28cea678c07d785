"""The JSON API against a real SQLite file and a real PostgreSQL server: every endpoint answers what
the analysis API answers, view filters and sorting, the life-cycle calculator's inputs, labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_factories import EVIL, MODELS, TIMELINE_MODEL, record, run_id_of

from wattsup import analysis
from wattsup.analysis import Metric, Selection
from wattsup.results import Store
from wattsup.web import create_app


def ok(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def dumped(items: Any) -> Any:
    if isinstance(items, list):
        return [i.model_dump(mode="json") for i in items]
    return items.model_dump(mode="json")


# ---------------------------------------------------------------- the API is the analysis API


def test_summary_facets_models_study_are_the_analysis_results(client: TestClient, study_store: Store) -> None:
    assert ok(client, "/api/summary") == dumped(analysis.summary_by_task(study_store))
    assert ok(client, "/api/facets") == dumped(analysis.facets(study_store))
    assert ok(client, "/api/models", task="summarization") == dumped(
        analysis.model_energies(study_store, Selection(task=["summarization"]))
    )
    assert ok(client, "/api/study") == dumped(analysis.study_figure(study_store))
    assert ok(client, "/api/energy-vs-params") == dumped(analysis.energy_vs_params(study_store))
    assert ok(client, "/api/multi-vs-task") == dumped(analysis.multi_vs_task(study_store))
    assert ok(client, "/api/ratings") == dumped(analysis.star_ratings(study_store))
    assert ok(client, "/api/warnings") == dumped(analysis.mixed_method_warnings(study_store))


def test_metric_and_selection_parameters_reach_the_analysis(client: TestClient, study_store: Store) -> None:
    metric = Metric(phase="query model", component="gpu")
    got = ok(client, "/api/summary", phase="query model", component="gpu", hardware="*A100*")
    assert got == dumped(analysis.summary_by_task(study_store, Selection(hardware=["*A100*"]), metric))
    assert {t["task"] for t in got} == {"summarization", "text-classification"}
    load = ok(client, "/api/summary", phase="load")
    assert all(t["unit"] == "kWh per model load" for t in load)
    zero_shot = ok(client, "/api/models", mode="zero-shot")
    assert {m["model"] for m in zero_shot} == {m.name for m in MODELS if m.mode == "zero-shot"}
    random = ok(client, "/api/models", weights="random")
    assert {m["model"] for m in random} == {m.name for m in MODELS if m.weights == "random"}


def test_blank_parameters_mean_not_given(client: TestClient) -> None:
    # what a form without JavaScript sends: every field, the unused ones empty
    assert ok(
        client, "/api/summary", task="", hardware="", mode="", weights="", phase="", component=""
    ) == ok(client, "/api/summary")


# ---------------------------------------------------------------- leaderboard


def test_leaderboard_ranks_and_stars(client: TestClient, study_store: Store) -> None:
    board = ok(client, "/api/leaderboard", task="text-classification")
    assert board["task"] == "text-classification"
    assert board["entries"] == dumped(analysis.leaderboard(study_store, "text-classification"))
    kwh = [e["kwh"] for e in board["entries"]]
    assert kwh == sorted(kwh)
    assert board["entries"][0]["stars"] == 5
    assert board["entries"][-1]["stars"] == 1
    assert board["total"] == len(board["entries"]) == 8


def test_leaderboard_defaults_to_the_first_task(client: TestClient) -> None:
    assert ok(client, "/api/leaderboard")["task"] == ok(client, "/api/facets")["tasks"][0]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"size": "lt100m"},
            {m.name for m in MODELS if m.task == "text-classification" and (m.n_params or 1e12) < 1e8},
        ),
        ({"size": "unknown"}, {EVIL}),
        ({"sensors": "modeled"}, {"SamLowe/roberta-base-go_emotions"}),
        ({"weights": "random"}, {EVIL}),
        ({"mode": "zero-shot"}, {"google/flan-t5-base", "bigscience/bloomz-560m"}),
    ],
)
def test_leaderboard_filters(client: TestClient, params: dict[str, str], expected: set[str]) -> None:
    board = ok(client, "/api/leaderboard", task="text-classification", **params)
    assert {e["model"] for e in board["entries"]} == expected


def test_leaderboard_hardware_class_and_sorting(client: TestClient) -> None:
    assert ok(client, "/api/leaderboard", task="image-classification", hardware_class="A100")["entries"] == []
    board = ok(client, "/api/leaderboard", task="image-classification", hardware_class="h100")
    assert len(board["entries"]) == 5
    by_params = ok(client, "/api/leaderboard", task="image-classification", sort="params", order="desc")
    counts = [e["n_params"] for e in by_params["entries"]]
    assert counts == sorted(counts, reverse=True)
    by_name = ok(client, "/api/leaderboard", task="image-classification", sort="model", limit=2)
    assert [e["model"] for e in by_name["entries"]] == [
        "facebook/convnext-large-224",
        "google/vit-base-patch16-224",
    ]
    # unknown values (no parameter count) sort last in either order
    for order in ("asc", "desc"):
        rows = ok(client, "/api/leaderboard", task="text-classification", sort="params", order=order)[
            "entries"
        ]
        assert rows[-1]["model"] == EVIL


# ---------------------------------------------------------------- runs


def test_runs_list_and_pagination(client: TestClient, study_store: Store) -> None:
    first = ok(client, "/api/runs", limit=10)
    assert first["total"] == study_store.count() == sum(len(chunk) for chunk in study_store.iter_run_rows())
    assert len(first["runs"]) == 10
    second = ok(client, "/api/runs", limit=10, offset=10)
    assert not {r["run_id"] for r in first["runs"]} & {r["run_id"] for r in second["runs"]}
    failed = ok(client, "/api/runs", status="failed")
    assert failed["total"] == 1
    assert failed["runs"][0]["error"] == "CUDA out of memory"
    gpt2 = ok(client, "/api/runs", model="gpt*", task="text-generation")
    assert {r["model"] for r in gpt2["runs"]} == {"gpt2"}


def test_run_details_by_prefix_and_timeline(client: TestClient, study_store: Store) -> None:
    run_id = run_id_of(TIMELINE_MODEL)
    details = ok(client, f"/api/runs/{run_id[:10]}")
    expected = dumped(analysis.run_details(study_store, run_id))
    for d in (details, expected):  # the summary's stored_at is the time of the call
        d["summary"].pop("stored_at")
    assert details == expected
    assert details["record"]["provenance"]["gpus"] == ["NVIDIA H100 80GB HBM3"]
    timeline = ok(client, f"/api/runs/{run_id}/timeline")
    assert timeline["run_id"] == run_id
    assert {s["component"] for s in timeline["series"]} == {"gpu:0", "cpu"}
    gpu = next(s for s in timeline["series"] if s["component"] == "gpu:0")
    assert gpu["power_w"][0] == pytest.approx(80.0)
    assert max(gpu["power_w"]) == pytest.approx(380.0)
    assert gpu["t_s"] == sorted(gpu["t_s"])
    plain = ok(client, f"/api/runs/{run_id_of('gpt2')}/timeline")
    assert plain["series"] == []
    assert "no power timeline" in plain["note"]


def test_unknown_run_is_404_with_close_ids(client: TestClient) -> None:
    run_id = run_id_of("gpt2")
    r = client.get(f"/api/runs/{run_id[:6]}ffffffffff")
    assert r.status_code == 404
    assert "unknown run" in r.json()["message"]


# ---------------------------------------------------------------- comparisons


def test_compare_models_side_by_side(client: TestClient, study_store: Store) -> None:
    models = ["microsoft/resnet-50", "google/vit-base-patch16-224", "gpt2", "no/such-model"]
    got = ok(client, "/api/compare/models", model=models)
    assert got["models"] == models
    assert got["missing"] == ["no/such-model"]
    rows = {r["task"]: r for r in got["rows"]}
    assert set(rows) == {"image-classification", "text-generation"}
    image = rows["image-classification"]
    resnet, vit, gpt2, missing = image["energies"]
    assert gpt2 is None and missing is None
    expected = {
        m.model: m.kwh for m in analysis.model_energies(study_store, Selection(task="image-classification"))
    }
    assert resnet["kwh"] == pytest.approx(expected["microsoft/resnet-50"])
    assert image["ratio_to_first"][1] == pytest.approx(vit["kwh"] / resnet["kwh"])


def test_compare_runs(client: TestClient, study_store: Store) -> None:
    ids = [run_id_of("microsoft/resnet-50"), run_id_of("google/vit-base-patch16-224")]
    got = ok(client, "/api/compare/runs", run=ids)
    assert got == dumped(analysis.compare_runs(study_store, ids))
    assert [p["phase"] for p in got["phases"]] == ["preprocess", "query model"]


# ---------------------------------------------------------------- life cycle


def test_lifecycle_defaults_and_inputs(client: TestClient, study_store: Store) -> None:
    base = ok(client, "/api/lifecycle", task="summarization")
    scenario = analysis.Scenario(task="summarization", region="WORLD")
    assert base == dumped(analysis.lifecycle(study_store, scenario))
    assert base["training_operational_kg"] is None
    assert base["parity_inferences"] is None
    assert base["gpu"] == "A100-SXM4-80GB"

    trained = ok(client, "/api/lifecycle", task="summarization", training_kwh=50_000, queries_per_day=2e6)
    assert trained["parity_inferences"] == pytest.approx(50_000 / (base["kwh_per_1k"] / 1000))
    assert trained["parity_days"] == pytest.approx(trained["parity_inferences"] / 2e6)

    cleaner = ok(client, "/api/lifecycle", task="summarization", region="FRA")
    assert cleaner["inference_operational_kg"] < base["inference_operational_kg"]
    pue = ok(client, "/api/lifecycle", task="summarization", pue=1.1)
    assert pue["footprint"]["assumptions"]["pue"] == 1.1

    # lifetime and utilisation go through wattsup.carbon.footprint with the same inputs
    defaults = base["footprint"]["assumptions"]
    assert (defaults["lifetime_years"], defaults["utilization"]) == (5, 0.85)
    longer = ok(client, "/api/lifecycle", task="summarization", lifetime_years=10, utilization=0.425)
    assert longer["footprint"]["assumptions"]["lifetime_years"] == 10
    assert longer["footprint"]["assumptions"]["utilization"] == 0.425
    assert longer["inference_operational_kg"] == pytest.approx(base["inference_operational_kg"])
    # twice the life at half the use: the same busy hours, so the same amortised embodied carbon
    assert longer["inference_embodied_kg"] == pytest.approx(base["inference_embodied_kg"])
    for b in (base, longer):
        assert b["inference_construction_kg"] > 0
        assert b["inference_construction_kg"] == pytest.approx(
            b["footprint"]["inference"]["construction_kgco2e"]
        )
    shorter = ok(client, "/api/lifecycle", task="summarization", lifetime_years=2.5)
    assert shorter["inference_embodied_kg"] > base["inference_embodied_kg"]

    given = ok(client, "/api/lifecycle", kwh_per_1k=0.5, gpu="H100-SXM5-80GB")
    assert given["kwh_per_1k"] == 0.5
    assert given["gpu"] == "H100-SXM5-80GB"


def test_parity_per_model(client: TestClient, study_store: Store) -> None:
    got = ok(client, "/api/parity", training_kwh=1000, queries_per_day=1e5, task="text-generation")
    assert got == dumped(
        analysis.parity(study_store, 1000, Selection(task=["text-generation"]), queries_per_day=1e5)
    )
    assert len(got) == 3


def test_regions_and_gpus(client: TestClient) -> None:
    regions = ok(client, "/api/regions")
    codes = {r["code"] for r in regions}
    assert {"WORLD", "FRA", "aws:us-west-2"} <= codes
    gpus = {g["name"]: g for g in ok(client, "/api/gpus")}
    assert set(gpus) >= {"A100-SXM4-80GB", "H100-SXM5-80GB"}
    assert (
        gpus["H100-SXM5-80GB"]["embodied_kg_central"] == 164
        and gpus["H100-SXM5-80GB"]["embodied_unknown"] is None
    )
    # a GPU whose embodied carbon is unknown is listed with None and why, never 0
    orin = gpus["Jetson-AGX-Orin-64GB"]
    assert orin["embodied_kg_central"] is None and orin["embodied_unknown"].startswith("no published")


# ---------------------------------------------------------------- labels


def test_label_json_svg_and_png(client: TestClient, study_store: Store) -> None:
    params = {"model": "microsoft/resnet-50", "task": "image-classification"}
    label = ok(client, "/api/label", **params)
    assert label == dumped(analysis.energy_label(study_store, "microsoft/resnet-50", "image-classification"))
    assert label["stars"] == 5
    svg = client.get("/api/label.svg", params=params)
    assert svg.status_code == 200
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")
    assert "content-disposition" not in svg.headers
    download = client.get("/api/label.svg", params={**params, "download": "true"})
    assert download.headers["content-disposition"] == (
        'attachment; filename="wattsup-label-microsoft-resnet-50-image-classification.svg"'
    )
    png = client.get("/api/label.png", params=params)
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert png.headers["content-disposition"].endswith('.png"')


def test_label_rates_the_model_among_all_models_of_the_task(client: TestClient) -> None:
    label = ok(client, "/api/label", model="google/flan-t5-base", task="text-classification")
    assert label["group_size"] == 8


def test_label_filename_never_carries_markup(client: TestClient) -> None:
    r = client.get(
        "/api/label.svg", params={"model": EVIL, "task": "text-classification", "download": "true"}
    )
    assert r.status_code == 200
    assert r.headers["content-disposition"] == (
        'attachment; filename="wattsup-label-script-alert-1-script-text-classification.svg"'
    )
    assert "<script>" not in r.text
    assert "&lt;script&gt;" in r.text


# ---------------------------------------------------------------- an empty store


def test_empty_store(empty_client: TestClient) -> None:
    assert ok(empty_client, "/api/summary") == []
    assert ok(empty_client, "/api/study") == []
    assert ok(empty_client, "/api/facets")["runs"] == 0
    r = empty_client.get("/api/leaderboard")
    assert r.status_code == 422
    assert "no successful runs" in r.json()["message"]
    for page in (
        "/",
        "/leaderboard",
        "/study",
        "/params",
        "/modes",
        "/runs",
        "/compare",
        "/lifecycle",
        "/label",
    ):
        html = empty_client.get(page)
        assert html.status_code == 200, (page, html.text)
        assert "wattsup bench" in html.text or page in ("/runs", "/compare"), page


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    spec = ok(client, "/api/openapi.json")
    paths = set(spec["paths"])
    assert {
        "/api/facets",
        "/api/summary",
        "/api/models",
        "/api/leaderboard",
        "/api/ratings",
        "/api/study",
        "/api/energy-vs-params",
        "/api/multi-vs-task",
        "/api/warnings",
        "/api/runs",
        "/api/runs/{run_id}",
        "/api/runs/{run_id}/timeline",
        "/api/compare/models",
        "/api/compare/runs",
        "/api/lifecycle",
        "/api/parity",
        "/api/regions",
        "/api/gpus",
        "/api/label",
        "/api/label.svg",
        "/api/label.png",
        "/api/figures/{name}",
        "/api/serving",
    } == paths
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    for path in paths:
        assert path in docs.text


def test_new_runs_show_within_a_second_or_two(tmp_path: Path) -> None:
    import time

    path = str(tmp_path / "runs.db")
    with Store.open(path) as writer:
        writer.add(record(MODELS[0], "imdb", 0, seq=1))
        with Store.open(path) as served:
            client = TestClient(create_app(served, allowed_hosts=["testserver"]))
            assert ok(client, "/api/facets")["runs"] == 1
            assert ok(client, "/api/facets")["runs"] == 1  # answered from the memo
            writer.add(record(MODELS[1], "imdb", 0, seq=2))
            deadline = time.monotonic() + 5
            while ok(client, "/api/facets")["runs"] != 2:
                assert time.monotonic() < deadline, "the new run never showed"
                time.sleep(0.1)


def test_lifecycle_takes_every_footprint_input(client: TestClient) -> None:
    """A footprint field the calculator's scenario does not know (the network's share of IT energy) still
    changes the dashboard's figures: the model declares it once, the API passes it through."""
    base = ok(client, "/api/lifecycle", task="summarization")
    networked = ok(client, "/api/lifecycle", task="summarization", network_share=0.5)
    assert networked["inference_operational_kg"] == pytest.approx(
        1.5 * base["inference_operational_kg"], rel=1e-6
    )
    assert networked["inference_embodied_kg"] == pytest.approx(base["inference_embodied_kg"], rel=1e-6)


# ---------------------------------------------------------------- figures


def test_every_figure_is_served_as_plotly_json(client: TestClient, study_store: Store) -> None:
    from wattsup import figures
    from wattsup.figures import FigureQuery

    sel = {"task": "text-classification", "component": "gpu"}
    query = FigureQuery(study_store, Selection(task=["text-classification"]), Metric(component="gpu"))
    for name in ("energy_by_task", "energy_vs_params", "phases", "output_length"):
        assert ok(client, f"/api/figures/{name}", **sel)["figure"] == figures.figure_json(name, query), name
    study = ok(client, "/api/figures/energy_by_task")["figure"]
    assert [t["name"] for t in study["data"]] == ["task-specific", "zero-shot", "mean over models"]
    # a model id goes as it is: plotly.js shows a tag it does not know as text (the browser tests check)
    assert any(EVIL in text for t in study["data"] for text in t.get("text") or [])
    none = ok(client, "/api/figures/multi_vs_task", task="image-classification")
    assert none == {
        "name": "multi_vs_task",
        "figure": None,
        "message": "No task has runs in both modes in this selection.",
    }


def test_the_life_cycle_figure_draws_the_calculator_s_inputs(client: TestClient) -> None:
    def bars(**params: Any) -> dict[str, list[float | None]]:
        fig = ok(client, "/api/figures/lifecycle", task="summarization", **params)["figure"]
        return {t["name"]: t["y"] for t in fig["data"]}

    base = ok(client, "/api/lifecycle", task="summarization")
    assert bars()["operational"] == [None, pytest.approx(base["inference_operational_kg"])]
    networked = ok(client, "/api/lifecycle", task="summarization", network_share=0.5)
    assert bars(network_share=0.5)["operational"][1] == pytest.approx(networked["inference_operational_kg"])
    assert bars(training_kwh=1000)["operational"][0] is not None


def test_the_dashboard_s_own_figures(client: TestClient) -> None:
    timeline = ok(client, "/api/figures/timeline", run=run_id_of(TIMELINE_MODEL))["figure"]
    assert [t["name"] for t in timeline["data"]][:2] == ["rep 0 · gpu:0", "rep 0 · cpu"]
    quiet = ok(client, "/api/figures/timeline", run=run_id_of("gpt2"))
    assert quiet["figure"] is None and "Meter(timeline=True)" in quiet["message"]
    models = ok(client, "/api/figures/compare_models", model=["gpt2", "t5-small"])["figure"]
    assert [t["name"] for t in models["data"]] == ["gpt2", "t5-small"]
    runs = [run_id_of(TIMELINE_MODEL), run_id_of("google/vit-base-patch16-224")]
    compared = ok(client, "/api/figures/compare_runs", run=runs)["figure"]
    assert [t["x"][0] for t in compared["data"]] == ["whole window"] * 2
    assert client.get("/api/figures/compare_runs", params={"run": runs[:1]}).status_code == 422
    assert client.get("/api/figures/timeline").json()["message"].startswith("run: the timeline is of one run")


def test_an_unknown_figure_is_404_with_the_names(client: TestClient) -> None:
    r = client.get("/api/figures/energy_by_tsak")
    assert r.status_code == 404
    message = r.json()["message"]
    assert "did you mean 'energy_by_task'" in message
    assert "serving_pareto" in message and "timeline" in message
    assert client.get("/api/figures/Bad-Name").status_code == 422


def test_figures_are_kept_by_the_web_cache(study_store: Store) -> None:
    app = create_app(study_store, allowed_hosts=["testserver"])
    client = TestClient(app)
    before = len(app.state.ask.memo)
    first = ok(client, "/api/figures/energy_vs_params")
    assert len(app.state.ask.memo) > before
    assert ok(client, "/api/figures/energy_vs_params") == first
