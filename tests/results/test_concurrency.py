"""Several processes writing one store at once lose nothing and duplicate nothing; a suite killed
mid-write leaves only whole records and resumes where it stopped."""

from __future__ import annotations

import multiprocessing as mp
import time

import pytest
import sqlalchemy as sa

from tests.support.results_records import SUITE, phase_rows_per_record, run_suite, suite_config, write_records
from wattsup.results import RunFilter, Store
from wattsup.results.tables import SCHEMA_VERSION

WORKERS = 4
PER_WORKER = 150
SHARED = 40
pytestmark = pytest.mark.slow


def test_concurrent_writers_lose_and_duplicate_nothing(store_url: str) -> None:
    with Store.open(store_url):  # the schema exists before the race starts (a race on it is tested below)
        pass
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(WORKERS)
    procs = [
        ctx.Process(target=write_records, args=(store_url, w, PER_WORKER, SHARED, start))
        for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0, f"writer {p.pid} exited with {p.exitcode}"

    expected = {f"w{w}-{i:04d}" for w in range(WORKERS) for i in range(PER_WORKER)}
    expected |= {f"shared-{j:03d}" for j in range(SHARED)}
    with Store.open(store_url) as store:
        assert store.count() == len(expected) == WORKERS * PER_WORKER + SHARED
        ids = [row["run_id"] for chunk in store.iter_run_rows() for row in chunk]
        assert len(ids) == len(set(ids)) and set(ids) == expected
        for w in range(WORKERS):
            assert store.count(RunFilter(model=f"model-{w}")) == PER_WORKER
        with store.engine.connect() as conn:
            n_phases = conn.scalar(sa.text("SELECT count(*) FROM phases"))
            dupes = conn.execute(
                sa.text(
                    "SELECT run_id, rep, ordinal, component, count(*) FROM phases "
                    "GROUP BY run_id, rep, ordinal, component HAVING count(*) > 1"
                )
            ).all()
        assert n_phases == len(expected) * phase_rows_per_record()
        assert dupes == []


def test_concurrent_first_opens_create_the_schema_once(store_url: str) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(WORKERS)  # all open (and so try to create) the store at the same moment
    procs = [ctx.Process(target=write_records, args=(store_url, w, 10, 5, start)) for w in range(WORKERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    with Store.open(store_url) as store:
        assert store.count() == WORKERS * 10 + 5
        assert store.schema_version() == SCHEMA_VERSION
        with store.engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM schema_version")) == 1


def test_killed_suite_leaves_whole_records_and_resumes(store_url: str) -> None:
    with Store.open(store_url):
        pass
    fail = {3, 11}
    ctx = mp.get_context("spawn")
    done = ctx.Value("i", 0)
    proc = ctx.Process(target=run_suite, args=(store_url, done, 0.02, fail))
    proc.start()
    deadline = time.monotonic() + 120
    while done.value < 15 and time.monotonic() < deadline and proc.is_alive():
        time.sleep(0.01)
    proc.kill()  # SIGKILL: no cleanup, possibly in the middle of a transaction
    proc.join()
    assert 15 <= done.value < len(SUITE)

    with Store.open(store_url) as store:
        stored = store.count()
        assert stored >= 15
        for s in store.list_runs():  # every stored run is whole: its record and all its phases
            assert len(store.phases_of(s.run_id)) == (phase_rows_per_record() if s.status == "ok" else 0)
            assert store.get(s.run_id).run_id == s.run_id
        completed = store.completed_hashes()
        assert suite_config(3).config_hash() not in completed  # failed: to be retried

    ran, skipped = run_suite(store_url, None, 0.0, fail=set())
    assert skipped == len(completed) and ran == len(SUITE) - len(completed)

    with Store.open(store_url) as store:
        assert store.completed_hashes() == {suite_config(k).config_hash() for k in range(len(SUITE))}
        for k in range(len(SUITE)):  # one ok run per configuration: nothing measured twice
            assert store.count(RunFilter(config_hash=suite_config(k).config_hash(), status="ok")) == 1
        assert store.count(RunFilter(status="failed")) == len(fail)  # both failed before the kill
