"""The results store on SQLite and PostgreSQL: round trips, headline columns, filters, resume, errors."""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.results_records import T0, make_record, phase_rows_per_record
from wattsup.errors import InvalidInput, NotFound
from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import Repetition, RunConfig, RunRecord
from wattsup.results import RunFilter, RunSummary, Store, StoreError, StoreUnavailable
from wattsup.results import connect as connect_mod
from wattsup.results import migrations as migrations_mod
from wattsup.results import store as store_mod
from wattsup.results.rows import component_class, headline, phase_rows
from wattsup.results.tables import RUN_COLUMNS, SCHEMA_VERSION, runs

# -- round trips -----------------------------------------------------------------------------------------


def test_full_record_round_trips(store: Store) -> None:
    record = make_record(7, timeline=True)
    assert store.add(record) is True
    back = store.get(record.run_id)
    assert back == record
    assert back.model_dump_json() == record.model_dump_json()
    assert back.started_at.tzinfo is not None and back.started_at == record.started_at
    assert back.repetitions[1].measurement.phase("decode") == record.repetitions[1].measurement.phase(
        "decode"
    )
    assert back.repetitions[0].measurement.timeline == {"gpu:0": [(10.0, 0.0), (11.0, 120.5), (12.0, 250.0)]}


def test_phase_rows_are_stored_in_order(store: Store) -> None:
    record = make_record()
    store.add(record)
    stored = store.phases_of(record.run_id)
    assert len(stored) == phase_rows_per_record()
    assert stored == phase_rows(record)
    paths = [r["phase"] for r in stored if r["rep"] == 0 and r["component"] == "gpu:0"]
    assert paths == ["", "generate", "generate/prefill", "generate/decode", "postprocess"]
    load = [r for r in stored if r["rep"] is None]
    assert len(load) == 5 * 4 and all(r["inferences"] is None for r in load)
    decode = next(
        r for r in stored if r["rep"] == 2 and r["phase"] == "generate/decode" and r["component"] == "cpu"
    )
    assert decode["depth"] == 2 and decode["energy_j"] == pytest.approx(40.0 * 1.2 * 0.7)
    assert decode["method"] == "counter" and decode["duration_s"] == 1.5 and decode["inferences"] == 100


def test_summary_columns_match_the_record(store: Store) -> None:
    record = make_record(3)
    store.add(record)
    (s,) = store.list_runs()
    assert s.run_id == record.run_id and s.config_hash == record.config_hash
    assert (s.task, s.model, s.dataset, s.device, s.batch_size, s.n, s.reps, s.max_new_tokens, s.seed) == (
        "text-generation",
        "HuggingFaceTB/SmolLM2-135M",
        "wikitext-sample",
        "cuda:0",
        4,
        100,
        3,
        16,
        3,
    )
    assert s.hardware == "NVIDIA H100 80GB HBM3" and s.gpu_count == 1 and s.hostname == "bench-01"
    assert s.started_at == record.started_at and s.finished_at == record.finished_at
    assert s.sensor_methods == "cpu=counter dram=counter gpu:0=counter ram=modeled" and s.has_modeled is True
    per_rep = record.kwh_per_1k()
    assert s.energy_kwh_per_1k == pytest.approx(sum(per_rep) / 3)
    assert s.gpu_energy_kwh_per_1k == pytest.approx(sum(record.kwh_per_1k("gpu")) / 3)
    assert s.cpu_energy_kwh_per_1k == pytest.approx(sum(record.kwh_per_1k("cpu")) / 3)
    ram = [a + b for a, b in zip(record.kwh_per_1k("ram"), record.kwh_per_1k("dram"), strict=True)]
    assert s.ram_energy_kwh_per_1k == pytest.approx(sum(ram) / 3)
    assert s.reps_measured == 3 and s.output_units == 1600 and s.n_params == 134_515_008
    assert s.load_energy_j == pytest.approx(0.5 * 300)
    assert s.wattsup_version == "0.1.0" and s.status == "ok" and s.error is None
    assert [f.name for f in fields(RunSummary)] == list(RUN_COLUMNS)


def test_headline_figures_by_hand() -> None:
    def rep(k: int, gpu_j: float, cpu_j: float) -> Repetition:
        comps = [
            ComponentEnergy(name="gpu:0", energy_j=gpu_j, method="counter", error_bound_j=36.0),
            ComponentEnergy(name="cpu", energy_j=cpu_j, method="counter", error_bound_j=0.0),
        ]
        return Repetition(
            index=k, measurement=Measurement(start_s=0, duration_s=4.0, components=comps), inferences=1000
        )

    cfg = RunConfig(task="t", model="m", dataset="d")
    record = RunRecord(config=cfg, repetitions=[rep(0, 3000, 600), rep(1, 6600, 600), rep(2, 10200, 600)])
    h = headline(record)
    assert h["energy_kwh_per_1k"] == pytest.approx(0.002)  # mean of (3600, 7200, 10800 J) / 3.6e6
    assert h["energy_kwh_per_1k_std"] == pytest.approx(0.001)
    assert h["gpu_energy_kwh_per_1k"] == pytest.approx(6600 / 3.6e6)
    assert h["cpu_energy_kwh_per_1k"] == pytest.approx(600 / 3.6e6)
    assert h["ram_energy_kwh_per_1k"] is None  # unknown, not zero
    assert h["error_bound_kwh_per_1k"] == pytest.approx(36 / 3.6e6)
    assert h["inferences_per_s"] == 250.0 and h["gpu_count"] == 1 and h["has_modeled"] is False
    one = headline(RunRecord(config=cfg, repetitions=[rep(0, 3000, 600)]))
    assert one["energy_kwh_per_1k_std"] is None  # one repetition: no spread to report
    empty = headline(RunRecord(config=cfg))
    assert empty["energy_kwh_per_1k"] is None and empty["gpu_count"] is None and empty["reps_measured"] == 0
    assert [component_class(n) for n in ("gpu:3", "cpu:1", "dram:0", "ram", "npu")] == [
        "gpu",
        "cpu",
        "ram",
        "ram",
        None,
    ]


def test_hardware_follows_the_device() -> None:
    gpu_run = make_record(device="cuda:0")
    assert gpu_run.hardware == "NVIDIA H100 80GB HBM3"
    assert make_record(device="cpu").hardware == "AMD EPYC 9454"
    two = make_record(device="cuda:1")
    two.provenance.gpus.append("NVIDIA A100-SXM4-40GB")
    assert two.hardware == "NVIDIA A100-SXM4-40GB"
    assert RunRecord(config=RunConfig(task="t", model="m", dataset="d")).hardware is None


# -- idempotence, replace, delete ------------------------------------------------------------------------


def test_add_is_idempotent_on_run_id(store: Store) -> None:
    record = make_record()
    assert store.add(record) is True
    changed = record.model_copy(update={"error": "changed"})
    assert store.add(changed) is False
    assert store.get(record.run_id).error is None
    assert store.count() == 1 and len(store.phases_of(record.run_id)) == phase_rows_per_record()
    assert store.add(changed, replace=True) is True
    assert store.get(record.run_id).error == "changed"
    assert store.count() == 1 and len(store.phases_of(record.run_id)) == phase_rows_per_record()


def test_add_many_counts_new_records_only(store: Store) -> None:
    records = [make_record(i) for i in range(30)]
    assert store.add(records[0]) is True
    assert store.add_many(records + records[:5], chunk_size=7) == 29
    assert store.add_many(records) == 0
    assert store.count() == 30
    with store.engine.connect() as conn:
        n_phases = conn.scalar(sa.text("SELECT count(*) FROM phases"))
    assert n_phases == 30 * phase_rows_per_record()


def test_delete(store: Store) -> None:
    a, b = make_record(1), make_record(2)
    store.add_many([a, b])
    assert store.delete(a.run_id) is True
    assert store.delete(a.run_id) is False
    assert store.count() == 1 and store.phases_of(a.run_id) == []
    with pytest.raises(NotFound):
        store.get(a.run_id)
    assert store.get(b.run_id) == b


# -- reading ---------------------------------------------------------------------------------------------


def _mixed(store: Store) -> list[RunRecord]:
    records = [
        make_record(0, task="text-generation", model="HuggingFaceTB/SmolLM2-135M"),
        make_record(1, task="text-generation", model="Qwen/Qwen2.5-0.5B"),
        make_record(
            2, task="image-classification", model="google/vit-base-patch16-224", device="cpu", gpu=False
        ),
        make_record(3, task="text-generation", model="Qwen/Qwen2.5-0.5B", status="failed"),
        make_record(4, task="summarization", model="facebook/bart-large-cnn"),
    ]
    store.add_many(records)
    return records


def test_list_filters_and_pages(store: Store) -> None:
    records = _mixed(store)
    newest_first = [r.run_id for r in reversed(records)]
    assert [s.run_id for s in store.list_runs()] == newest_first
    assert [s.run_id for s in store.list_runs(limit=2, offset=1)] == newest_first[1:3]
    assert store.count(RunFilter(task="text-generation")) == 3
    assert store.count(RunFilter(task=["summarization", "image-classification"])) == 2
    assert store.count(RunFilter(model="qwen/*")) == 2  # globs ignore case
    assert store.count(RunFilter(model="Qwen/Qwen2.5-0.5B", status="ok")) == 1
    assert store.count(RunFilter(model="qwen/qwen2.5-0.5b")) == 0  # exact values don't
    assert store.count(RunFilter(status="failed")) == 1
    assert store.count(RunFilter(hardware="AMD EPYC*")) == 1
    assert store.count(RunFilter(model="*_*")) == 0  # '_' is literal, not a LIKE wildcard
    assert store.count(RunFilter(since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=4))) == 2
    assert store.count(RunFilter(config_hash=records[2].config_hash)) == 1
    cpu_run = store.list_runs(RunFilter(device="cpu"))[0]
    assert cpu_run.gpu_energy_kwh_per_1k is None and cpu_run.gpu_count == 0
    assert cpu_run.hardware == "AMD EPYC 9454"


def test_iteration_in_chunks(store: Store) -> None:
    records = [make_record(i) for i in range(23)]
    store.add_many(records)
    got = list(store.iter_records(chunk_size=5))
    assert sorted(r.run_id for r in got) == sorted(r.run_id for r in records)
    assert [r.run_id for r in got] == sorted(r.run_id for r in got)
    chunks = list(store.iter_run_rows(chunk_size=10))
    assert [len(c) for c in chunks] == [10, 10, 3] and "record_json" not in chunks[0][0]
    assert "record_json" in next(store.iter_run_rows(full=True))[0]
    phase_chunks = list(store.iter_phase_rows(chunk_size=100))
    assert sum(len(c) for c in phase_chunks) == 23 * phase_rows_per_record()
    assert {"task", "model", "hardware", "config_hash", "phase", "component"} <= set(phase_chunks[0][0])
    assert sum(len(c) for c in store.iter_phase_rows(RunFilter(config_hash=records[0].config_hash))) == (
        phase_rows_per_record()
    )


def test_resolve_prefixes_and_close_matches(store: Store) -> None:
    store.add_many(
        [
            make_record(1, run_id="abc123def"),
            make_record(2, run_id="abc999000"),
            make_record(3, run_id="f00d"),
        ]
    )
    assert store.resolve("abc1") == "abc123def"
    assert store.resolve("f00d") == "f00d"
    with pytest.raises(InvalidInput, match="start of several runs"):
        store.resolve("abc")
    with pytest.raises(NotFound) as err:
        store.get("abc123dex")
    assert "abc123def" in err.value.suggestions
    with pytest.raises(NotFound) as err:
        store.resolve("abc12x")
    assert err.value.suggestions == ["abc123"]
    assert "wattsup runs --db" in str(err.value)


# -- resume semantics ------------------------------------------------------------------------------------


def test_resume_counts_ok_runs_only(store: Store) -> None:
    ok = make_record(1)
    store.add(ok)
    failing = make_record(2).config
    failed = store.record_failure(failing, "RuntimeError: CUDA out of memory")
    assert failed.status == "failed" and failed.error == "RuntimeError: CUDA out of memory"
    assert failed.finished_at is not None and failed.repetitions == []
    assert store.get(failed.run_id) == failed
    assert store.has_completed(ok.config) and store.has_completed(ok.config_hash)
    assert not store.has_completed(failing)
    assert store.completed_hashes() == {ok.config_hash}
    (row,) = store.list_runs(RunFilter(status="failed"))
    assert row.error == "RuntimeError: CUDA out of memory" and row.energy_kwh_per_1k is None
    store.add(make_record(2))  # the retry succeeds
    assert store.has_completed(failing)
    assert store.completed_hashes() == {ok.config_hash, failing.config_hash()}
    assert store.count(RunFilter(config_hash=failing.config_hash())) == 2  # the failure stays on record


def test_keep_stores_a_runners_record_whatever_its_status(store: Store) -> None:
    ok = make_record(1)
    store.keep(ok)
    store.keep(ok)  # idempotent on run_id
    assert store.get(ok.run_id) == ok and store.count() == 1
    crashed = make_record(2).model_copy(
        update={"status": "failed", "error": None, "repetitions": [], "load": None}
    )
    store.keep(crashed)
    kept = store.get(crashed.run_id)
    assert kept.status == "failed" and kept.error == "failed"  # a failure always has a reason
    assert kept.config == crashed.config and kept.started_at == crashed.started_at
    assert not store.has_completed(crashed.config)  # a resumed suite retries it


# -- schema and migrations -------------------------------------------------------------------------------


def test_schema_is_stamped_and_indexed(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    insp = sa.inspect(store.engine)
    assert {"runs", "run_records", "phases", "schema_version"} <= set(insp.get_table_names())
    indexed = {tuple(ix["column_names"]) for ix in insp.get_indexes("runs")}
    for col in ("task", "model", "hardware", "status", "config_hash", "started_at"):
        assert (col,) in indexed
    assert {c["name"] for c in insp.get_columns("runs")} == {c.name for c in runs.columns}


def test_sqlite_settings(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "a" / "b" / "runs.db")) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    assert (tmp_path / "a" / "b" / "runs.db").is_file()


def test_migration_steps_run_once(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(store_url) as store:
        store.add(make_record(1))

    def add_note(conn: sa.Connection) -> None:
        conn.execute(sa.text("ALTER TABLE runs ADD COLUMN note TEXT"))

    nxt = SCHEMA_VERSION + 1
    monkeypatch.setattr(migrations_mod, "SCHEMA_VERSION", nxt)
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", nxt)
    monkeypatch.setattr(
        migrations_mod, "MIGRATIONS", {**migrations_mod.MIGRATIONS, nxt: ("runs.note", add_note)}
    )
    for _ in range(2):  # the second open finds the new version and does nothing
        with Store.open(store_url) as store:
            assert store.schema_version() == nxt and store.count() == 1
            assert "note" in {c["name"] for c in sa.inspect(store.engine).get_columns("runs")}
    monkeypatch.undo()
    with pytest.raises(StoreError, match="newer wattsup"):
        Store.open(store_url)


def test_a_version_1_store_gains_the_reported_columns(tmp_path: Path) -> None:
    """Stores written before ``RunRecord.reported`` (schema 1) are upgraded in place, their runs kept."""
    path = tmp_path / "v1.db"
    with Store.open(str(path)) as store:
        store.add(make_record(1))
    with sqlite3.connect(path) as conn:  # back to schema 1 as it was
        conn.execute("ALTER TABLE runs DROP COLUMN reported_emissions_kg")
        conn.execute("ALTER TABLE runs DROP COLUMN reported_country")
        conn.execute("UPDATE schema_version SET version = 1")  # a new store is stamped at its version
    with Store.open(str(path)) as store:
        assert store.schema_version() == SCHEMA_VERSION and store.count() == 1
        cols = {c["name"] for c in sa.inspect(store.engine).get_columns("runs")}
        assert {"reported_emissions_kg", "reported_country"} <= cols
        (summary,) = store.list_runs()
        assert summary.reported_emissions_kg is None and summary.reported_country is None


def test_a_foreign_runs_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER)")
    with pytest.raises(StoreError, match="not a wattsup results store"):
        Store.open(str(path))


# -- where the store is, and bad URLs ---------------------------------------------------------------------


def test_default_store_is_in_the_user_data_dir(tmp_path: Path) -> None:
    with Store.open(None) as store:
        store.add(make_record())
        assert store.location == str(tmp_path / "xdg-data" / "wattsup" / "runs.db")
    assert (tmp_path / "xdg-data" / "wattsup" / "runs.db").is_file()


def test_env_var_and_plain_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTSUP_DB", str(tmp_path / "env.db"))
    with Store.open(None) as store:
        store.add(make_record())
        assert store.location == str(tmp_path / "env.db")
    with Store.open(f"sqlite:///{tmp_path / 'env.db'}") as store:
        assert store.count() == 1
    with Store.open(str(tmp_path / "explicit.db")) as store:  # --db wins over the variable
        assert store.count() == 0
    monkeypatch.setenv("HOME", str(tmp_path))
    with Store.open("~/home.db") as store:
        assert store.location == str(tmp_path / "home.db")


def test_in_memory_store() -> None:
    with Store.open("sqlite://") as store:
        store.add(make_record())
        assert store.count() == 1


def test_postgres_urls_get_the_psycopg_driver() -> None:
    for raw in ("postgresql://u:secret@db.example:5432/runs", "postgres://u:secret@db.example:5432/runs"):
        url, source = store_mod.resolve_url(raw)
        assert url.drivername == "postgresql+psycopg" and source == "--db"
        assert "secret" not in connect_mod.display(url)


@pytest.mark.parametrize(
    ("url", "error", "words"),
    [
        ("nosuchdb://x/y", InvalidInput, ["--db", "unknown kind of database", "postgresql+psycopg://"]),
        ("postgresql+psycopg://://", InvalidInput, ["--db", "not a database URL"]),
        ("mysql+nosuchdriver://u@h/db", InvalidInput, ["--db", "unknown kind"]),
        (
            "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none",
            StoreUnavailable,
            ["--db", "cannot open the store", "server is running", "SQLite file"],
        ),
    ],
)
def test_bad_urls_name_the_flag_and_what_to_do(url: str, error: type[Exception], words: list[str]) -> None:
    with pytest.raises(error) as err:
        Store.open(url)
    for w in words:
        assert w in str(err.value)
    assert "hunter2" not in str(err.value)


def test_missing_driver_says_what_to_install() -> None:
    import importlib.util

    if importlib.util.find_spec("pymysql") is not None:
        pytest.skip("pymysql is installed here")
    with pytest.raises(StoreUnavailable, match="driver is not installed"):
        Store.open("mysql+pymysql://u@127.0.0.1/db")


def test_bad_url_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATTSUP_DB", "postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable, match=r"^WATTSUP_DB postgresql"):
        Store.open(None)


def test_unusable_sqlite_paths(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailable, match="not a database"):
        Store.open(str(junk))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable, match="cannot create its directory"):
        Store.open(str(blocker / "sub" / "runs.db"))
    with pytest.raises(StoreUnavailable, match="--db"):
        Store.open(str(tmp_path))  # a directory


@pytest.mark.postgres
def test_unknown_database_on_a_live_server(pg_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(database="wattsup_no_such_db").render_as_string(hide_password=False)
    with pytest.raises(StoreUnavailable, match="wattsup_no_such_db"):
        Store.open(url)
