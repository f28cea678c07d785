"""``wattsup runs``, ``show`` and ``export`` end to end, through the console entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.support.results_records import make_record, phase_rows_per_record
from wattsup.cli import main
from wattsup.records import RunRecord
from wattsup.results import Store


@pytest.fixture
def db(store_url: str) -> str:
    with Store.open(store_url) as store:
        store.add_many(
            [make_record(i, model=f"org/model-{i % 2}", run_id=f"{i:02d}aa{i:028x}") for i in range(6)]
        )
        store.record_failure(make_record(9).config, "RuntimeError: CUDA out of memory", run_id="ffffailed")
    return store_url


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_runs_table_and_json(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(["runs", "--db", db], capsys)
    assert rc == 0
    assert "05aa00000000" in out and "ffffailed" in out and "failed" in out
    assert "NVIDIA H100 80GB HBM3" in out and "kWh/1k" in out
    assert "7 of 7 runs in" in out

    rc, out, _ = run(["runs", "--db", db, "--json", "--model", "org/model-1", "--status", "ok"], capsys)
    rows = json.loads(out)
    assert rc == 0 and [r["run_id"][:2] for r in rows] == ["05", "03", "01"]
    assert all(r["energy_kwh_per_1k"] > 0 for r in rows) and rows[0]["started_at"].endswith("+00:00")

    rc, out, _ = run(["runs", "--db", db, "--limit", "2"], capsys)
    assert rc == 0 and "2 of 7 runs" in out and "--limit 0" in out
    rc, out, _ = run(["runs", "--db", db, "--task", "translation"], capsys)
    assert rc == 0 and "no runs match" in out
    rc, out, _ = run(["runs", "--db", db, "--json", "--task", "text-*", "--status", "failed"], capsys)
    assert [r["error"] for r in json.loads(out)] == ["RuntimeError: CUDA out of memory"]


def test_runs_bad_options(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(["runs", "--db", db, "--status", "done"], capsys)
    assert rc == 2 and "--status: must be one of ok, failed" in err
    rc, _, err = run(["runs", "--db", db, "--limit", "-1"], capsys)
    assert rc == 2 and "--limit" in err


def test_runs_on_an_empty_default_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from wattsup.results import Store

    default = tmp_path / "xdg-data" / "wattsup" / "runs.db"
    rc, _, err = run(["runs"], capsys)
    assert rc == 1 and f"the store {default}: no store there (nothing has been stored yet)" in err
    assert not default.parent.exists()  # reading never creates a store
    Store.open(None).close()  # an empty store that exists
    rc, out, _ = run(["runs"], capsys)
    assert rc == 0 and "no runs stored in" in out and str(default) in out


@pytest.mark.parametrize(
    "argv",
    [
        ["runs"],
        ["show", "abc"],
        ["export", "--out", "-"],
        ["summary"],
        ["leaderboard", "text-classification"],
        ["report", "--out", "REPORT"],
        ["analyze", "ratings"],
    ],
)
def test_reading_commands_never_create_a_store(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nonexistent" / "dir" / "x.db"
    argv = [a.replace("REPORT", str(tmp_path / "report")) for a in argv]
    rc, _, err = run([*argv, "--db", str(missing)], capsys)
    assert rc == 1 and f"--db {missing}: no store there" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "nonexistent").exists() and not (tmp_path / "report").exists()
    empty = tmp_path / "empty.db"
    empty.touch()  # a file, but no wattsup store in it
    rc, _, err = run([*argv, "--db", str(empty)], capsys)
    assert rc == 1 and "holds no wattsup store" in err
    assert empty.stat().st_size == 0


def test_show(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(["show", "03aa", "--db", db], capsys)
    assert rc == 0
    assert f"run 03aa{3:028x}" in out
    for words in (
        "configuration",
        "org/model-1",
        "kWh per 1,000 inferences",
        "phases",
        "decode",
        "prefill",
        "model load",
        "provenance",
        "AMD EPYC 9454",
        "550.54",
    ):
        assert words in out

    rc, out, _ = run(["show", "--json", "--db", db, f"03aa{3:028x}"], capsys)
    with Store.open(db) as store:
        assert rc == 0 and RunRecord.model_validate_json(out) == store.get(f"03aa{3:028x}")

    rc, out, _ = run(["show", "ffff", "--db", db], capsys)
    assert rc == 0 and "failed" in out and "CUDA out of memory" in out


def test_show_unknown_run(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(["show", "03ab", "--db", db], capsys)
    assert (
        rc == 2
        and "unknown run '03ab'" in err
        and "did you mean '03aa'" in err
        and "wattsup runs --db" in err
    )
    rc, _, err = run(["show", "0", "--db", db], capsys)
    assert rc == 2 and "start of several runs" in err


def test_export_through_the_cli(
    db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc, _, err = run(
        [
            "export",
            "--db",
            db,
            "--format",
            "parquet",
            "--out",
            str(tmp_path / "r.pq"),
            "--model",
            "org/model-0",
        ],
        capsys,
    )
    assert rc == 0 and "wrote 3 runs" in err
    assert pq.read_table(tmp_path / "r.pq").num_rows == 3

    monkeypatch.setenv("WATTSUP_DB", db)  # the variable stands in for --db
    rc, _, err = run(
        ["export", "--out", str(tmp_path / "phases.csv"), "--table", "phases", "--status", "ok"], capsys
    )
    assert rc == 0 and f"wrote {6 * phase_rows_per_record()} phase rows" in err
    rc, out, _ = run(["export", "--out", "-", "--format", "json", "--status", "failed"], capsys)
    assert rc == 0 and [r["run_id"] for r in json.loads(out)] == ["ffffailed"]

    rc, _, err = run(["export", "--out", str(tmp_path / "x.txt")], capsys)
    assert rc == 2 and "--format" in err

    # bare 'wattsup export' writes CSV to standard output
    rc, out, _ = run(["export"], capsys)
    assert rc == 0 and out.startswith("run_id,") and len(out.strip().splitlines()) == 1 + 7


def test_bad_db_urls_through_the_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rc, _, err = run(["runs", "--db", "postgresql://nobody:pw@127.0.0.1:1/x"], capsys)
    assert rc == 1 and err.startswith("wattsup: error: --db postgresql+psycopg://nobody:***@127.0.0.1:1/x")
    assert "cannot open the store" in err and "Traceback" not in err
    rc, _, err = run(["show", "abc", "--db", "oracle+nope://x"], capsys)
    assert rc == 2 and "--db: unknown kind of database" in err
    monkeypatch.setenv("WATTSUP_DB", "nosuch://x")
    rc, _, err = run(["export", "--out", "-", "--format", "csv"], capsys)
    assert rc == 2 and "WATTSUP_DB: unknown kind of database" in err
