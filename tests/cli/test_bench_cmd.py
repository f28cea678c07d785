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
    assert "1 already in" in second and "stored (" in second
    # it says plainly that these figures were measured before, and how to measure again
    assert "0 runs measured now" in second and "add --again" in second

    def kwh_cell(out: str) -> str:
        (row,) = [line for line in out.splitlines() if line.startswith("│") and "tiny/roberta-mlm" in line]
        return row.split("│")[4].strip()

    # the skipped configuration shows its stored figures, not an empty row
    assert kwh_cell(second) == kwh_cell(first) and float(kwh_cell(first)) > 0

    assert main([*argv, "--again"]) == 0
    third = capsys.readouterr().out
    assert "1 to measure now" in third and "1 runs measured now" in third and "stored (" not in third
    from wattsup.results import Store

    with Store.open(str(tmp_path / "s.db")) as store:
        assert store.count() == 2


BENCH = ["bench", "text-classification", "-m", "tiny/bert-classifier", "--weights", "random", "-n", "2"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--dtype", "float8"], "--dtype: must be one of float32, float16, bfloat16, got 'float8'"),
        (["--device", "cuda:abc"], "--device: must be cpu, cuda or cuda:N"),
        (["--device", "tpu"], "--device: must be cpu, cuda or cuda:N"),
        (["--timeout", "-1"], "--timeout: must be a finite number > 0"),
        (["--timeout", "0"], "--timeout: must be a finite number > 0"),
        (["--timeout", "nan"], "--timeout: must be a finite number > 0"),
        (["--timeout", "inf"], "--timeout: must be a finite number > 0"),
        (["-n", str(10**30)], "-n: must be at most 1,000,000"),
        (["--reps", "5000"], "--reps: must be at most 1,000"),
        (["--dataset", "./nope.csv"], "'./nope.csv' does not exist"),
        (["--dataset", "data/reviews.jsonl"], "'data/reviews.jsonl' does not exist"),
    ],
)
def test_bad_options_are_refused_before_any_run(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "b.db"
    assert main([*BENCH, *extra, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not db.exists()  # no bogus failed run stored: the store was not even opened


@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_without_cuda_is_refused_at_once(
    device: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    db = tmp_path / "b.db"
    assert main([*BENCH, "--device", device, "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"--device {device}:" in err and "--device cpu" in err
    assert not db.exists()
    argv = ["suite", "quick", "--tasks", "fill-mask", "--device", device, "--db", str(db)]
    assert main(argv) == 2
    assert "--device cpu" in capsys.readouterr().err and not db.exists()


def test_long_names_are_refused_cleanly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    long = "x" * 5000
    for argv in (
        ["bench", "text-classification", "-m", long, "--weights", "random"],
        ["bench", "text-classification", "-m", "tiny/bert-classifier", "--weights", "random", "-d", long],
        ["bench", "text-classification", "-m", "owner/" + long, "-d", "./" + long],
    ):
        assert main([*argv, "--db", str(tmp_path / "b.db")]) == 2
        err = capsys.readouterr().err
        assert "(5,00" in err and "characters)" in err and len(err) < 1000


def test_a_broken_store_is_found_before_measuring(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "corrupt.db"
    db.write_bytes(b"this is not a database" * 200)
    assert main([*BENCH, "--db", str(db)]) != 0
    err = capsys.readouterr().err
    assert "cannot open the store" in err
    assert "inferences" not in err  # nothing was measured


def test_a_record_that_cannot_be_stored_is_written_to_a_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    db = tmp_path / "ro.db"
    from wattsup.results import Store

    Store.open(str(db)).close()  # an empty store
    # a trigger makes every insert fail, as a full disk or a lost server would
    con = sqlite3.connect(db)
    con.execute("CREATE TRIGGER no_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(FAIL, 'disk is full'); END")
    con.commit()
    con.close()
    monkeypatch.chdir(tmp_path)
    assert main([*BENCH, "--db", str(db), "--json"]) == 1
    out, err = capsys.readouterr()
    run_id = json.loads(out)["run_id"]
    saved = tmp_path / f"wattsup-run-{run_id}.json"
    assert f"its record is in {saved}" in err and "disk is full" in err
    from wattsup.records import RunRecord

    record = RunRecord.model_validate_json(saved.read_text())
    assert record.status == "ok" and record.repetitions, record.error
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER no_runs")
    con.commit()
    con.close()
    assert main(["import", "record", str(saved), "--db", str(db)]) == 0
    with Store.open(str(db)) as store:
        assert store.get(run_id).status == "ok"
