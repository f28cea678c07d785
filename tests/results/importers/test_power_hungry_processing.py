"""Integration: import the real logs of the Power Hungry Processing study and reproduce its analysis.

Oracles are computed here from the raw CSVs with pandas, independently of wattsup's importer and SQL,
and checked against the paper's Table 2 (kWh per 1,000 queries, mean over models per task) within a
generous factor. See docs/recipes/power-hungry-processing.md for the same steps as commands.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import SHARED
from wattsup.analysis import (
    Metric,
    Selection,
    energy_vs_params,
    multi_vs_task,
    output_length_vs_energy,
    summary_by_task,
)
from wattsup.results import Store
from wattsup.results.importers import ImportOptions, import_codecarbon, read_params

pd = pytest.importorskip("pandas")

STUDY = Path(os.environ.get("WATTSUP_PHS_DATA", SHARED / "data" / "power-hungry-processing"))
if not (STUDY / "emissions" / "complete").is_dir():
    STUDY = Path("/work/shared/data/power-hungry-processing")
pytestmark = pytest.mark.skipif(
    not (STUDY / "emissions" / "complete").is_dir(), reason=f"study logs not at {STUDY}"
)

# Table 2 of the paper (Luccioni, Jernite, Strubell, FAccT 2024): mean kWh per 1,000 queries over models
PAPER = {
    "text-classification": 0.002,
    "fill-mask": 0.003,
    "question-answering": 0.003,
    "token-classification": 0.004,
    "image-classification": 0.007,
    "object-detection": 0.038,
    "text-generation": 0.047,
    "summarization": 0.049,
    "image-to-text": 0.063,
    "text-to-image": 2.907,
}
PREFIX = {
    "text_classif": "text-classification",
    "token_classif": "token-classification",
    "qa": "question-answering",
    "fillmask": "fill-mask",
    "textgen": "text-generation",
    "summarize": "summarization",
    "image_class": "image-classification",
    "obj_detection": "object-detection",
    "itt": "image-to-text",
    "tti": "text-to-image",
}
IMAGE = ("image-classification", "object-detection", "image-to-text")
PUBLISHED = Selection(mode="task-specific", exclude_dataset=("*_native",))
QUERY = Metric(phase="query model")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    db = tmp_path_factory.mktemp("phs") / "phs.db"
    opts = ImportOptions(
        params=read_params(STUDY / "model_parameters.csv"), lengths_paths=(STUDY / "lengths" / "complete",)
    )
    with Store.open(str(db)) as s:
        report = import_codecarbon(s, [STUDY / "emissions" / "complete", STUDY / "emissions" / "base"], opts)
        assert report.runs == report.added == 4170
        assert sum(report.skipped.values()) == 2343  # task-mode logs no plain log names
        yield s


@pytest.fixture(scope="module")
def oracle() -> pd.DataFrame:
    """Per run, from the raw CSVs: task (task-specific files only), model, dataset file, the complete
    row's energy and the query-model row's energy (kWh; 1,000 queries per run)."""
    frames = []
    for f in sorted((STUDY / "emissions" / "complete").glob("*.csv")):
        stem = f.stem
        prefix = next((p for p in sorted(PREFIX, key=len, reverse=True) if stem.startswith(p + "_")), None)
        if prefix is None:  # zeroshot_* files: multi-purpose models
            continue
        task = PREFIX[prefix]
        if task in IMAGE and not stem.endswith("_resized"):  # the published tables use the resized inputs
            continue
        frames.append(pd.read_csv(f).assign(task=task, file=stem))
    complete = pd.concat(frames)
    complete["components_kwh"] = complete["cpu_energy"] + complete["gpu_energy"] + complete["ram_energy"]
    query: dict[str, tuple[float, float]] = {}
    for f in (STUDY / "emissions" / "base").glob("*.csv"):  # 6,513 small files: the csv module is quicker
        with f.open(newline="") as fh:
            for rec in csv.DictReader(fh):
                if rec["task_name"] == "query model":
                    query[rec["run_id"]] = (float(rec["energy_consumed"]), float(rec["gpu_energy"]))
    complete["query_kwh"] = [query[r][0] for r in complete["run_id"]]
    complete["query_gpu_kwh"] = [query[r][1] for r in complete["run_id"]]
    return complete


def _per_task(df: pd.DataFrame, column: str) -> pd.DataFrame:
    per_model = (
        df.groupby(["task", "project_name", "file"])[column].mean().groupby(["task", "project_name"]).mean()
    )
    return per_model.groupby("task").agg(["mean", "std", "median", "min", "max", "count"])


def test_query_phase_reproduces_table_2(store: Store, oracle: pd.DataFrame) -> None:
    expected = _per_task(oracle, "query_kwh")
    got = {r.task: r for r in summary_by_task(store, PUBLISHED, QUERY)}
    assert set(got) == set(PAPER)
    for task, row in got.items():
        e = expected.loc[task]
        assert row.models == e["count"] == (10 if task == "text-to-image" else 8)
        assert row.mean_kwh == pytest.approx(e["mean"], rel=1e-9)
        assert row.std_kwh == pytest.approx(e["std"], rel=1e-9)
        assert row.median_kwh == pytest.approx(e["median"], rel=1e-9)
        assert row.min_kwh == pytest.approx(e["min"], rel=1e-9)
        assert row.max_kwh == pytest.approx(e["max"], rel=1e-9)
        assert row.mixes_measured_and_modeled is True  # CodeCarbon's CPU and RAM are estimates
        # the paper's figure, within a generous factor (rounded to 3 decimals there; see the recipe)
        assert PAPER[task] / 1.5 <= row.mean_kwh <= PAPER[task] * 1.5, task
    # the oracle values the recipe documents (mean over models, kWh per 1,000 queries)
    assert got["text-classification"].mean_kwh == pytest.approx(0.00229, rel=0.01)
    assert got["image-to-text"].mean_kwh == pytest.approx(0.0630, rel=0.01)
    assert got["text-to-image"].mean_kwh == pytest.approx(2.586, rel=0.01)


def test_whole_window_is_load_plus_queries(store: Store, oracle: pd.DataFrame) -> None:
    expected = _per_task(oracle, "components_kwh")
    logged = _per_task(oracle, "energy_consumed")
    for row in summary_by_task(store, PUBLISHED):
        assert row.mean_kwh == pytest.approx(expected.loc[row.task]["mean"], rel=1e-9)
        # CodeCarbon's energy_consumed is the same sum, up to its rounding
        assert row.mean_kwh == pytest.approx(logged.loc[row.task]["mean"], rel=1e-5)
    # the complete rows include loading the model: the cheap tasks roughly double
    whole = {r.task: r.mean_kwh for r in summary_by_task(store, PUBLISHED)}
    query = {r.task: r.mean_kwh for r in summary_by_task(store, PUBLISHED, QUERY)}
    assert whole["text-classification"] / query["text-classification"] > 1.8
    assert whole["text-to-image"] / query["text-to-image"] < 1.01


def test_gpu_only_and_native_images(store: Store, oracle: pd.DataFrame) -> None:
    expected = _per_task(oracle, "query_gpu_kwh")
    for row in summary_by_task(store, PUBLISHED, Metric(phase="query model", component="gpu")):
        assert row.mean_kwh == pytest.approx(expected.loc[row.task]["mean"], rel=1e-9)
        assert row.mixes_measured_and_modeled is False
    native = {
        r.task: r for r in summary_by_task(store, Selection(mode="task-specific", dataset="*_native"), QUERY)
    }
    assert set(native) == {"image-classification", "object-detection", "image-to-text"}
    assert native["image-to-text"].mean_kwh == pytest.approx(0.0813, rel=0.01)  # not the published 0.063


def test_multi_purpose_against_task_specific(store: Store) -> None:
    rows = {c.task: c for c in multi_vs_task(store, Selection(exclude_dataset=("*_native",)), QUERY)}
    assert set(rows) == {"text-classification", "question-answering", "summarization"}
    for c in rows.values():
        assert c.ratio is not None and c.ratio > 2  # multi-purpose models cost more on every task
        assert c.task_specific_models == 8 and c.multi_purpose_models in (11, 12)
        assert len(c.per_dataset) == 3
    assert rows["summarization"].ratio == pytest.approx(3.80, rel=0.01)


def test_size_and_length_analyses(store: Store) -> None:
    fits = {f.task: f for f in energy_vs_params(store, PUBLISHED, QUERY)}
    assert all(f.missing_params == [] for f in fits.values())  # model_parameters.csv covers every model
    assert all(f.slope is not None and f.slope > 0 for f in fits.values())
    families = {f.family: f for f in output_length_vs_energy(store, Selection(mode="zero-shot"), QUERY)}
    dec, enc = families["decoder-only"], families["encoder-decoder"]
    assert dec.n == enc.n == 36  # BLOOMz and Flan-T5, 4 models x 9 datasets each, from lengths/
    assert dec.slope is not None and enc.slope is not None and dec.slope > enc.slope  # the paper's finding


def test_cli_recipe(store: Store, tmp_path: Path) -> None:
    from wattsup.cli import main

    out = tmp_path / "summary.json"
    code = main(
        [
            "summary",
            "--by",
            "task",
            "--phase",
            "query model",
            "--mode",
            "task-specific",
            "--exclude-dataset",
            "*_native",
            "--db",
            store.location,
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert {d["task"] for d in data} == set(PAPER)
    row = next(d for d in data if d["task"] == "text-generation")
    assert row["mean_kwh"] == pytest.approx(0.0469, rel=0.01) and row["models"] == 8
