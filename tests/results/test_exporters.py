"""Exporters: runs and phases to CSV, Parquet, JSON and JSON Lines, read back."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.results_records import make_record, phase_rows_per_record
from wattsup.errors import InvalidInput
from wattsup.records import RunRecord
from wattsup.results import RunFilter, Store, export
from wattsup.results.tables import PHASE_EXPORT_COLUMNS, RUN_COLUMNS


@pytest.fixture
def filled(store: Store) -> Store:
    store.add_many([make_record(i, model=f"m{i % 3}") for i in range(12)])
    store.record_failure(make_record(99, model="m0").config, "killed by the OOM killer")
    return store


def test_csv_runs(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / "runs.csv"
    assert export(filled, out) == 13
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(RUN_COLUMNS)
    by_id = {r["run_id"]: r for r in rows}
    summary = {s.run_id: s for s in filled.list_runs()}
    for run_id, s in summary.items():
        row = by_id[run_id]
        if s.energy_kwh_per_1k is None:
            assert row["energy_kwh_per_1k"] == "" and row["status"] == "failed"
        else:
            assert float(row["energy_kwh_per_1k"]) == s.energy_kwh_per_1k  # exact: floats keep their repr
        assert row["started_at"] == s.started_at.isoformat()
        assert row["has_modeled"] in ("true", "")
    assert not (tmp_path / "runs.csv.partial").exists()


def test_parquet_runs_and_phases(filled: Store, tmp_path: Path) -> None:
    assert export(filled, tmp_path / "runs.parquet", filters=RunFilter(status="ok")) == 12
    table = pq.read_table(tmp_path / "runs.parquet")
    assert table.num_rows == 12 and table.column_names == list(RUN_COLUMNS)
    assert table.schema.field("started_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("energy_kwh_per_1k").type == pa.float64()
    assert table.schema.field("n_params").type == pa.int64()
    assert table.schema.field("has_modeled").type == pa.bool_()
    expected = {s.run_id: s.energy_kwh_per_1k for s in filled.list_runs(RunFilter(status="ok"))}
    got = dict(
        zip(table.column("run_id").to_pylist(), table.column("energy_kwh_per_1k").to_pylist(), strict=True)
    )
    assert got == expected

    n = export(filled, tmp_path / "phases.parquet", table="phases", filters=RunFilter(model="m1"))
    phases = pq.read_table(tmp_path / "phases.parquet")
    assert n == phases.num_rows == 4 * phase_rows_per_record()
    assert phases.column_names == list(PHASE_EXPORT_COLUMNS)
    assert set(phases.column("model").to_pylist()) == {"m1"}
    reps = phases.column("rep").to_pylist()
    assert None in reps and set(reps) - {None} == {0, 1, 2}


def test_empty_parquet_keeps_its_schema(store: Store, tmp_path: Path) -> None:
    assert export(store, tmp_path / "none.parquet") == 0
    table = pq.read_table(tmp_path / "none.parquet")
    assert table.num_rows == 0 and table.column_names == list(RUN_COLUMNS)


def test_json_and_jsonl(filled: Store, tmp_path: Path) -> None:
    assert export(filled, tmp_path / "runs.json", full=True) == 13
    data = json.loads((tmp_path / "runs.json").read_text())
    assert len(data) == 13 and set(data[0]) == {*RUN_COLUMNS, "record"}
    for row in data:
        assert RunRecord.model_validate(row["record"]) == filled.get(row["run_id"])
    assert export(filled, tmp_path / "phases.jsonl", table="phases") == 12 * phase_rows_per_record()
    lines = (tmp_path / "phases.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert len(lines) == 12 * phase_rows_per_record() and list(first) == list(PHASE_EXPORT_COLUMNS)
    assert export(filled, tmp_path / "none.json", filters=RunFilter(task="nothing")) == 0
    assert json.loads((tmp_path / "none.json").read_text()) == []


def test_csv_full_records_and_stdout(
    filled: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export(filled, tmp_path / "full.csv", full=True, filters=RunFilter(status="failed"))
    with (tmp_path / "full.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert RunRecord.model_validate_json(row["record_json"]).error == "killed by the OOM killer"
    assert export(filled, "-", fmt="jsonl", filters=RunFilter(model="m2")) == 4
    assert len(capsys.readouterr().out.splitlines()) == 4


def test_bad_export_arguments(filled: Store, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="--format"):
        export(filled, tmp_path / "runs.xlsx")
    with pytest.raises(InvalidInput, match="--format"):
        export(filled, tmp_path / "runs.csv", fmt="xml")
    with pytest.raises(InvalidInput, match="--table"):
        export(filled, tmp_path / "runs.csv", table="models")
    with pytest.raises(InvalidInput, match="--out"):
        export(filled, "-", fmt="parquet")
    with pytest.raises(InvalidInput, match="directory"):
        export(filled, tmp_path, fmt="csv")
    with pytest.raises(InvalidInput, match="--full"):
        export(filled, tmp_path / "p.csv", table="phases", full=True)
    assert export(filled, tmp_path / "deep" / "er" / "runs.ndjson") == 13
