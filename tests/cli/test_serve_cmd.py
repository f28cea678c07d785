"""Serving results in the results store (schema version 3) and the ``wattsup serve`` table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from wattsup.cli import main
from wattsup.errors import NotFound
from wattsup.results import Store
from wattsup.results.serving_store import load_result, save_result, stored_results
from wattsup.results.tables import SCHEMA_VERSION, schema_version
from wattsup.serving import ServeConfig, ServingResult, parse_levels, run_serving

pytest.importorskip("torch")

ARGS = ["-m", "tiny/gpt2", "-c", "1", "-n", "4", "--max-input-tokens", "8", "--max-output-tokens", "4"]


@pytest.fixture(scope="module")
def result() -> ServingResult:
    cfg = ServeConfig(
        engine="static", levels=parse_levels("1", None), model="tiny/gpt2", requests=4, max_output_tokens=4
    )
    return run_serving(cfg)


def test_a_result_is_stored_whole_and_found_by_id_prefix(result: ServingResult, tmp_path: Path) -> None:
    db = str(tmp_path / "s.db")
    where = save_result(result, db)
    assert where.endswith("s.db")
    assert load_result(result.id, db) == result
    assert load_result(result.id[:6], db) == result
    later = result.model_copy(update={"id": "f" * 16})
    save_result(later, db)
    save_result(later, db)  # storing again replaces, never duplicates
    assert {r.id for r in stored_results(db)} == {result.id, later.id}
    with pytest.raises(NotFound, match="serving run"):
        load_result("nope", db)


def test_an_older_store_gains_the_serving_table(result: ServingResult, tmp_path: Path) -> None:
    db = str(tmp_path / "old.db")
    with Store.open(db) as store, store.engine.begin() as conn:  # make it a version-2 store
        conn.execute(sa.text("DROP TABLE serving_runs"))
        conn.execute(schema_version.update().values(version=2))
    with Store.open(db) as store:
        assert store.schema_version() == SCHEMA_VERSION == 3
        assert "serving_runs" in sa.inspect(store.engine).get_table_names()
    save_result(result, db)
    assert load_result(result.id, db).levels == result.levels


def test_the_cli_prints_a_table_with_methods_and_stores_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cli.db")
    assert main(["serve", *ARGS, "--db", db]) == 0
    out = capsys.readouterr().out
    assert "J/token" in out and "TTFT p50/p99 ms" in out and "c=1" in out
    assert "energy method:" in out and "prefill/decode: metered phases" in out
    assert "stored in" in out
    (stored,) = stored_results(db)
    assert stored.engine.model == "tiny/gpt2" and stored.provenance.sensors


def test_the_cli_json_is_quiet_and_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", *ARGS, "--json", "--no-store", "--db", str(tmp_path / "none.db")]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["levels"][0]["completed"] == 4
    assert not (tmp_path / "none.db").exists()


def test_the_cli_refuses_bad_input_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "-m", "tiny/gpt2", "-c", "1,two"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("wattsup: error: concurrency:") and "\n" not in err
    assert main(["serve", "-m", "tiny/gpt2", "--profile", "poetry"]) == 2
    assert "unknown profile 'poetry'" in capsys.readouterr().err
