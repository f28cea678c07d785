"""The command line: one real isolated run, errors that name what is wrong, listings, a resumed suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wattsup.cli import main


def test_bench_json_end_to_end(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    rc = main(
        [
            "bench",
            "text-classification",
            "--model",
            "tiny/bert-classifier",
            "--weights",
            "random",
            "-n",
            "3",
            "--reps",
            "2",
            "--warmup",
            "1",
            "--db",
            str(db),
            "--json",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    for key in (
        "run_id",
        "task",
        "model",
        "n",
        "reps",
        "weights",
        "input_source",
        "energy_kwh_per_1k",
        "gpu_energy_kwh_per_1k",
        "phases",
    ):
        assert key in data
    assert data["status"] == "ok" and data["n"] == 3 and data["reps"] == 2 and data["weights"] == "random"
    assert data["energy_kwh_per_1k"] > 0 and data["gpu_energy_kwh_per_1k"] is None  # no GPU here: unknown
    assert set(data["phases"]) == {"preprocess", "forward", "postprocess"}
    from wattsup.results import Store

    with Store.open(str(db)) as store:
        assert store.get(data["run_id"]).status == "ok"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "text-clasification", "-m", "tiny/gpt2"], "did you mean 'text-classification'"),
        (["bench", "text-generation", "-m", "tiny/gtp2", "--weights", "random"], "did you mean 'tiny/gpt2'"),
        (
            ["bench", "image-classification", "-m", "tiny/gpt2", "--weights", "random"],
            "tiny/gpt2 is a text-generation model; it does not fit task 'image-classification'",
        ),
        (
            [
                "bench",
                "text-classification",
                "-m",
                "tiny/bert-classifier",
                "--weights",
                "random",
                "--dataset",
                "coco",
            ],
            "'coco' has no 'text' field",
        ),
        (
            ["bench", "text-classification", "-m", "tiny/bert-classifier", "--dataset", "imbd"],
            "did you mean 'imdb'",
        ),
        (["bench", "text-classification", "-m", "tiny/bert-classifier", "--weights", "mine"], "--weights"),
    ],
)
def test_errors_name_what_is_wrong(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_tasks_and_models_listings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "--json"]) == 0
    tasks = json.loads(capsys.readouterr().out)
    assert len(tasks) == 13 and {"imdb", "sst2", "rotten_tomatoes"} <= set(tasks[0]["datasets"])
    assert main(["models", "--task", "summarization", "--json"]) == 0
    models = {m["id"] for m in json.loads(capsys.readouterr().out)}
    assert {"facebook/bart-large-cnn", "google/flan-t5-xxl", "tiny/bart-summarizer"} <= models
    assert "gpt2" not in models
    assert main(["models", "--family", "study-multi-purpose"]) == 0
    assert "bigscience/bloomz-7b1" in capsys.readouterr().out


def test_suite_resumes_from_the_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = [
        "suite",
        "quick",
        "--tasks",
        "fill-mask",
        "-n",
        "2",
        "--reps",
        "1",
        "--db",
        str(tmp_path / "s.db"),
    ]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "tiny/roberta-mlm" in first and "gCO2e / 1k" in first
    assert main(argv) == 0
    second = capsys.readouterr().out
    assert "1 already in" in second and "done before" in second

    def kwh_cell(out: str) -> str:
        (row,) = [line for line in out.splitlines() if line.startswith("│") and "tiny/roberta-mlm" in line]
        return row.split("│")[4].strip()

    # the skipped configuration shows its stored figures, not an empty row
    assert kwh_cell(second) == kwh_cell(first) and float(kwh_cell(first)) > 0
