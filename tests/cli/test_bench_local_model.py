"""A real local pretrained-format model folder (made offline with save_pretrained from a catalog
architecture): with its tokenizer it runs; without one it is refused at once, naming the missing files,
and runs with the synthetic tokenizer when asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wattsup.cli import main


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    from transformers import AutoModelForSequenceClassification

    from wattsup.bench.catalog import build_config, load_catalog

    config = build_config(load_catalog().find("tiny/bert-classifier"))
    AutoModelForSequenceClassification.from_config(config).save_pretrained(tmp_path / "my-bert")
    return tmp_path / "my-bert"


def bench(folder: Path, db: Path, *extra: str) -> list[str]:
    return [
        "bench",
        "text-classification",
        "--model",
        str(folder),
        "-n",
        "2",
        "--reps",
        "1",
        "--db",
        str(db),
        *extra,
    ]


def test_a_folder_without_tokenizer_is_refused_naming_the_files(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "b.db"
    assert main(bench(saved, db)) == 2
    err = capsys.readouterr().err
    assert "holds a model but no tokenizer" in err and "tokenizer.json" in err and "vocab.txt" in err
    assert "--tokenizer synthetic" in err and len(err.strip().splitlines()) == 1
    assert not db.exists()  # refused before any run

    assert main([*bench(saved, db, "--tokenizer", "synthetic"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "ok" and data["weights"] == "pretrained"
    assert "local folder" in data["weights_source"] and "--tokenizer synthetic" in data["weights_source"]


def test_a_folder_with_its_tokenizer_runs_with_it(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from wattsup.bench.catalog import build_config, load_catalog
    from wattsup.bench.tokenizer import for_config

    for_config(build_config(load_catalog().find("tiny/bert-classifier")), "bert").save_pretrained(saved)
    assert main([*bench(saved, tmp_path / "b.db"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "ok" and "the model's own tokenizer" in data["weights_source"]
