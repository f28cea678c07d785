"""The Ray executor on a local CPU-only Ray cluster (two logical GPUs declared, for placement): tiny models
end to end, a worker killed mid-sweep, bounded retries, GPUs never shared, a driver killed mid-sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.sweep_entries import ENTRY
from tests.support.processes import python_path, wait_gone
from tests.sweep.attempts import attempt_pids, attempts, seeds_sweep
from wattsup.results import RunFilter, RunRecord, Store
from wattsup.sweep import run_sweep

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """One local Ray cluster for the module (start-up takes seconds): 2 CPUs, 2 logical GPUs."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(
        num_cpus=2,
        num_gpus=2,
        include_dashboard=False,
        object_store_memory=80 * 1024 * 1024,
        log_to_driver=False,
        logging_level="warning",
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def records(db: str, status: str | None = None) -> list[RunRecord]:
    with Store.open(db) as s:
        return [s.get(r.run_id) for r in s.list_runs(RunFilter(status=status))]


@pytest.mark.slow
def test_tiny_models_run_on_ray_and_resume(cluster: str, sweep_file: Callable[..., Path], db: str) -> None:
    f = sweep_file(
        textwrap.dedent(
            """
            name: tiny-ray
            weights: random
            n: 2
            reps: 1
            warmup: 0
            retries: 0
            matrix:
              - {tasks: text-classification, models: tiny/bert-classifier, datasets: [imdb, sst2]}
              - {tasks: text-generation, models: tiny/gpt2, datasets: wikitext}
            """
        )
    )
    result = run_sweep(f, executor="ray", db=db)
    assert (result.ok, result.failed) == (3, 0), [o.error for o in result.outcomes]
    assert result.details["runs at once"] == "2"
    stored = records(db)
    assert len(stored) == 3 and {r.config_hash for r in stored} == {c.config_hash() for c in result.plan.todo}
    for r in stored:
        assert r.status == "ok" and r.repetitions and r.repetitions[0].measurement.total_energy_j > 0
        note = r.provenance.sensors["sharing"]
        assert note.startswith("executor ray; node ")
        assert "CUDA_VISIBLE_DEVICES='' (no GPU)" in note  # a CPU run meters no GPU of the node
        if "modeled" in r.provenance.sensors.get("cpu", ""):  # no RAPL here: the CPU model, per process tree
            assert "this process tree's CPU time" in r.provenance.sensors["cpu"]
            assert "cpu: modelled from this run's process-tree share of the CPU time" in note
        assert r.provenance.libraries["ray"] == ray.__version__

    again = run_sweep(f, executor="ray", db=db)
    assert again.plan.todo == [] and again.outcomes == [] and len(records(db)) == 3


def test_a_worker_killed_mid_sweep_is_retried_and_every_run_is_stored_once(
    cluster: str, sweep_file: Callable[..., Path], db: str, fake_env: Callable[..., Any], markers: Path
) -> None:
    f = sweep_file(seeds_sweep(4, extra="retries: 2\n"))
    env = fake_env({1: "kill_worker_once", 2: "kill_worker_once"})
    result = run_sweep(f, executor="ray", db=db, entry=ENTRY, env=env)
    assert (result.ok, result.failed) == (4, 0), [o.error for o in result.outcomes]
    stored = records(db)
    assert sorted(r.config.seed for r in stored) == [0, 1, 2, 3]  # every configuration, none twice
    assert all(r.status == "ok" for r in stored)
    tries = {c.seed: attempts(markers, c.config_hash()) for c in result.plan.todo}
    assert tries == {0: 1, 1: 2, 2: 2, 3: 1}
    for c in result.plan.todo:
        if c.seed in (1, 2):  # the Ray worker of the first attempt is gone; the retry ran in another
            (_, first_worker), (_, second_worker) = attempt_pids(markers, c.config_hash())
            assert first_worker != second_worker and wait_gone([first_worker]) == []


def test_a_failing_run_is_retried_by_ray_then_recorded_once_as_failed(
    cluster: str, sweep_file: Callable[..., Path], db: str, fake_env: Callable[..., Any], markers: Path
) -> None:
    f = sweep_file(seeds_sweep(3, extra="retries: 2\n"))
    result = run_sweep(f, executor="ray", db=db, entry=ENTRY, env=fake_env({0: "fail", 2: "fail_once"}))
    assert (result.ok, result.failed) == (2, 1)
    (bad,) = [o for o in result.outcomes if o.status == "failed"]
    assert bad.config.seed == 0 and bad.attempts == 3
    assert bad.error == "RuntimeError: the model refused to load (all 3 attempts failed)"
    assert {c.seed: attempts(markers, c.config_hash()) for c in result.plan.todo} == {0: 3, 1: 1, 2: 2}
    failed, ok = records(db, "failed"), records(db, "ok")
    assert [r.config.seed for r in failed] == [0] and failed[0].error == bad.error
    assert sorted(r.config.seed for r in ok) == [1, 2]


def test_runs_on_one_node_never_share_a_gpu_and_the_worker_inherits_its_gpu(
    cluster: str, sweep_file: Callable[..., Path], db: str, fake_env: Callable[..., Any]
) -> None:
    f = sweep_file(seeds_sweep(4, device="cuda"))
    result = run_sweep(f, executor="ray", db=db, entry=ENTRY, env=fake_env(sleep_s=3.0))
    assert result.ok == 4, [o.error for o in result.outcomes]
    spans: list[tuple[datetime, datetime, str]] = []
    for r in records(db):
        note = r.provenance.sensors["sharing"]
        # Written in the run's own subprocess from the CUDA_VISIBLE_DEVICES it inherited from its Ray task.
        gpu = next(g for g in ("0", "1") if f"CUDA_VISIBLE_DEVICES='{g}'" in note)
        assert r.finished_at is not None
        spans.append((r.started_at, r.finished_at, gpu))
    overlapping = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1 :] if a[0] < b[1] and b[0] < a[1]]
    assert overlapping, "two runs should have run at once on the two GPUs"
    assert all(a[2] != b[2] for a, b in overlapping)


def test_cuda_runs_on_a_cluster_without_gpus_are_refused_up_front() -> None:
    from wattsup.bench import make_config
    from wattsup.errors import InvalidInput
    from wattsup.sweep.ray_exec import SweepError, check_cluster
    from wattsup.sweep.spec import RayOptions

    cfg = make_config(
        "text-classification", "tiny/bert-classifier", weights="random", device="cuda", device_here=False
    )
    cpu_only = [{"NodeManagerAddress": "10.0.0.1", "Resources": {"CPU": 8.0}, "Alive": True}]
    with pytest.raises(SweepError, match="no node of the Ray cluster can run the cuda runs"):
        check_cluster(cpu_only, [cfg], RayOptions())
    gpus = [{"NodeManagerAddress": "10.0.0.1", "Resources": {"CPU": 8.0, "GPU": 4.0}, "Alive": True}]
    assert check_cluster(gpus, [cfg], RayOptions(cpus_per_run=3)) == 2  # CPUs bound it here
    assert check_cluster(gpus, [cfg], RayOptions()) == 4
    on_second = cfg.model_copy(update={"device": "cuda:1"})
    with pytest.raises(InvalidInput, match="each run sees only the 1 GPU"):
        check_cluster(gpus, [on_second], RayOptions())


@pytest.mark.slow
def test_a_killed_driver_loses_no_finished_run(
    cluster: str, sweep_file: Callable[..., Path], db: str, fake_env: Callable[..., Any], markers: Path
) -> None:
    f = sweep_file(seeds_sweep(4, extra="retries: 0\n"))
    env = fake_env(sleep_s=2.0)
    driver = (
        "import sys; from wattsup.sweep import run_sweep\n"
        f"run_sweep({str(f)!r}, executor='ray', address={cluster!r}, db={db!r}, workers=1, "
        f"entry={ENTRY!r}, env={env!r})\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", driver],
        # the driver imports the wattsup under test, whatever is installed
        env={**os.environ, "PYTHONPATH": python_path()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (Path(db).exists() and records(db)):
            assert proc.poll() is None, "the driver ended before storing a run"
            time.sleep(0.2)
        assert records(db), "no run was stored in time"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    kept = records(db)
    assert 1 <= len(kept) < 4 and all(r.status == "ok" for r in kept)
    # The run in flight stops with its driver's job: Ray ends the job's workers, and the run's own
    # subprocess notices that its parent is gone.
    in_flight = [pid for c in markers.iterdir() for pid, _ in attempt_pids(markers, c.name)]
    assert in_flight and wait_gone(in_flight, timeout_s=20) == []

    # Resume: only what was not stored runs, and no configuration ends up stored twice.
    result = run_sweep(f, executor="ray", db=db, entry=ENTRY, env=fake_env())
    assert len(result.plan.done) == len(kept) and result.ok == 4 - len(kept)
    assert sorted(r.config.seed for r in records(db)) == [0, 1, 2, 3]


@pytest.mark.postgres
def test_with_postgresql_the_workers_store_their_own_runs(
    cluster: str,
    sweep_file: Callable[..., Path],
    pg_database: str,
    fake_env: Callable[..., Any],
    markers: Path,
) -> None:
    f = sweep_file(seeds_sweep(3, extra="retries: 1\n"))
    env = fake_env({1: "kill_worker_once"})
    result = run_sweep(f, executor="ray", db=pg_database, entry=ENTRY, env=env)
    assert (result.ok, result.failed) == (3, 0), [o.error for o in result.outcomes]
    assert result.details["written by"].startswith("each worker stores its run")
    stored = records(pg_database)
    assert sorted(r.config.seed for r in stored) == [0, 1, 2] and all(r.status == "ok" for r in stored)
    assert {o.run_id for o in result.outcomes} == {r.run_id for r in stored}
