"""The isolated runner: every way a worker can end becomes a record, ok or failed with its reason."""

from __future__ import annotations

import json
import os
import pstats
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from tests.support.processes import python_path, wait_gone
from wattsup.bench import forkserver
from wattsup.bench import runner as runner_module
from wattsup.bench.runner import run_isolated
from wattsup.records import RunConfig, RunRecord

CONFIG = RunConfig(task="text-classification", model="tiny/bert-classifier", dataset="imdb", n=4, reps=2)
ENV = {"PYTHONPATH": python_path()}
"""The wattsup under test (not another one the interpreter may have installed), and the fake entries."""
ENTRIES = "tests.fakes.bench_entries"


def run(entry: str, timeout_s: float | None = 60) -> RunRecord:
    return run_isolated(CONFIG, timeout_s=timeout_s, entry=f"{ENTRIES}:{entry}", env=ENV)


def test_ok_run_comes_back_whole() -> None:
    rec = run("ok")
    assert rec.status == "ok" and rec.error is None
    assert rec.config == CONFIG
    assert len(rec.repetitions) == 2
    assert rec.kwh_per_1k() == pytest.approx([36.0 / 3.6e6 / 4 * 1000] * 2)


def test_exception_becomes_failed_record_with_reason() -> None:
    rec = run("raises")
    assert rec.status == "failed"
    assert rec.error == "RuntimeError: the model refused to load"
    assert rec.repetitions == []


def test_out_of_memory_is_named() -> None:
    rec = run("oom")
    assert rec.status == "failed"
    assert rec.error.startswith("out of memory")


def test_exit_without_record() -> None:
    rec = run("exits")
    assert rec.status == "failed"
    assert "exited with code 3" in rec.error


def test_sigkill_reads_as_probable_oom() -> None:
    rec = run("killed")
    assert rec.status == "failed"
    assert "SIGKILL" in rec.error and "out-of-memory" in rec.error


def test_timeout_stops_the_worker() -> None:
    t0 = time.monotonic()
    rec = run("hangs", timeout_s=3)
    assert rec.status == "failed"
    assert "timed out after 3 s" in rec.error
    assert time.monotonic() - t0 < 30


def test_worker_command_line_writes_record_to_stdout() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "wattsup.bench.worker",
            CONFIG.model_dump_json(),
            "--entry",
            f"{ENTRIES}:ok",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["status"] == "ok" and data["config"]["n"] == 4


@pytest.mark.parametrize("entry", ["ok", "raises"])
def test_a_run_is_profiled_where_the_user_asks(tmp_path: Path, entry: str) -> None:
    """WATTSUP_PROFILE_DIR, set where the user starts the run, reaches the worker (through the fork server)
    and leaves the run's profile there, a failed run's too."""
    rec = run_isolated(CONFIG, entry=f"{ENTRIES}:{entry}", env={**ENV, "WATTSUP_PROFILE_DIR": str(tmp_path)})
    assert rec.status == ("ok" if entry == "ok" else "failed")
    (prof,) = tmp_path.glob("text-classification__tiny-bert-classifier__*.prof")
    stats = pstats.Stats(str(prof))
    called = {func for (_, _, func) in stats.stats}  # type: ignore[attr-defined]
    assert entry in called, f"the entry {entry!r} is not in the profile: {sorted(called)[:20]}"
    text = prof.with_suffix(".txt").read_text()
    assert "cumulative" in text and f"({entry})" in text


def test_each_run_has_a_process_of_its_own() -> None:
    # the fork server forks every run from a process that never runs anything: no state carries over
    assert run("remembers").error == "RuntimeError: seen 0 earlier runs"
    assert run("remembers").error == "RuntimeError: seen 0 earlier runs"


def test_runs_wait_passively_unless_the_user_says_otherwise() -> None:
    """Spinning OpenMP threads burn CPU time the run is charged for and collapse on a busy host."""
    assert run("says_its_omp_policy").error == "RuntimeError: OMP_WAIT_POLICY=PASSIVE"
    rec = run_isolated(
        CONFIG, entry=f"{ENTRIES}:says_its_omp_policy", env={**ENV, "OMP_WAIT_POLICY": "ACTIVE"}
    )
    assert rec.error == "RuntimeError: OMP_WAIT_POLICY=ACTIVE"


def test_progress_comes_back_from_the_worker() -> None:
    seen: list[tuple[str, int, int]] = []
    rec = run_isolated(
        CONFIG, entry=f"{ENTRIES}:reports_progress", env=ENV, progress=lambda *a: seen.append(a)
    )
    assert rec.status == "ok"
    assert seen and seen[-1] == ("rep 2", 4, 4)
    assert all(stage in ("rep 1", "rep 2") and 1 <= done <= total == 4 for stage, done, total in seen)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_worker_and_its_directory_end_with_the_runner(tmp_path: Path, sig: signal.Signals) -> None:
    pidfile = tmp_path / "worker.pid"
    script = (
        "import sys\n"
        "from wattsup.bench.runner import run_isolated\n"
        "from wattsup.records import RunConfig\n"
        f"run_isolated(RunConfig.model_validate_json({CONFIG.model_dump_json()!r}), "
        f"entry='{ENTRIES}:hangs_after_saying_where')\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": python_path(),
        "WATTSUP_TEST_PIDFILE": str(pidfile),
        "TMPDIR": str(tmp_path),
    }
    runner = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + 120
    while not pidfile.exists():
        assert runner.poll() is None, "the runner ended before its worker started"
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.05)
    worker = int(pidfile.read_text())
    server = psutil.Process(worker).ppid()
    assert server != runner.pid and psutil.Process(server).ppid() == runner.pid
    assert list(tmp_path.glob(f"wattsup-run-{runner.pid}-*"))
    runner.send_signal(sig)
    runner.wait()
    assert wait_gone([worker], 15) == [], "the worker outlived its runner"
    assert wait_gone([server], 15) == [], "the fork server outlived its runner"
    assert not list(tmp_path.glob("wattsup-run-*")), "the run's directory was left behind"


def test_directories_of_dead_runners_are_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f"wattsup-run-{gone.pid}-abc"
    stale.mkdir()
    (stale / "record.json").write_text("{}")
    mine = tmp_path / f"wattsup-run-{os.getpid()}-def"
    mine.mkdir()
    runner_module._sweep_stale_run_dirs()
    assert not stale.exists() and mine.exists()


def test_cold_workers_start_a_server_for_each_run(monkeypatch: pytest.MonkeyPatch) -> None:
    runner_module.close_fork_servers()  # those of earlier tests, with other environments
    monkeypatch.setenv("WATTSUP_COLD_WORKERS", "1")
    assert run("ok").status == "ok"
    assert not runner_module._servers  # closed after its one run
    monkeypatch.setenv("WATTSUP_COLD_WORKERS", "0")
    assert run("ok").status == "ok"
    assert len(runner_module._servers) == 1  # kept warm for the next run


def test_an_interpreter_that_cannot_start_is_a_failed_run() -> None:
    rec = run_isolated(CONFIG, entry=f"{ENTRIES}:ok", env=ENV, python="/nonexistent/python3")
    assert rec.status == "failed" and "cannot start /nonexistent/python3" in (rec.error or "")


def test_cuda_runs_get_a_spare_that_started_before_them() -> None:
    """A run on a CUDA device leaves a spare behind (CUDA, where there is one, and the meter's sampler
    started ahead): the next such run is handed to it, and still has a process that ran nothing before."""
    cuda = CONFIG.model_copy(update={"device": "cuda"})
    env = {**ENV, "WATTSUP_TEST_TAG": "spare"}  # a fork server of this test's own

    def start() -> str | None:
        return run_isolated(cuda, timeout_s=120, entry=f"{ENTRIES}:says_how_it_started", env=env).error

    assert start() == "RuntimeError: start=forked sampler=False seen=0"
    for _ in range(2):
        assert start() == "RuntimeError: start=spare sampler=True seen=0"
    # another environment: the spare is not for it; CPU runs never get one
    other = run_isolated(
        cuda, timeout_s=120, entry=f"{ENTRIES}:says_how_it_started", env={**env, "WATTSUP_TEST_TAG": "x"}
    )
    assert other.error == "RuntimeError: start=forked sampler=False seen=0"
    cpu = run_isolated(CONFIG, timeout_s=120, entry=f"{ENTRIES}:says_how_it_started", env=env)
    assert cpu.error == "RuntimeError: start=forked sampler=False seen=0"


def test_spares_can_be_turned_off() -> None:
    cuda = CONFIG.model_copy(update={"device": "cuda"})
    env = {**ENV, "WATTSUP_SPARE_WORKER": "0"}
    for _ in range(2):
        rec = run_isolated(cuda, timeout_s=120, entry=f"{ENTRIES}:says_how_it_started", env=env)
        assert rec.error == "RuntimeError: start=forked sampler=False seen=0"


def test_a_fork_server_whose_imports_started_cuda_says_so(tmp_path: Path) -> None:
    """Children of a server in which CUDA's driver started could not use CUDA: the server refuses to fork
    them and the run's record says why (here the driver check is made to answer yes)."""
    fake = tmp_path / "python3"
    fake.write_text(
        "#!/bin/sh\n"  # called as: python3 -m wattsup.bench.forkserver PARENT_PID
        f'exec {sys.executable} -c "import sys, wattsup.bench.forkserver as f; '
        'f.cuda_driver_initialised = lambda: True; sys.exit(f.serve(int(sys.argv[1])))" "$3"\n'
    )
    fake.chmod(0o755)
    rec = run_isolated(CONFIG, entry=f"{ENTRIES}:ok", env=ENV, python=str(fake))
    assert rec.status == "failed"
    assert "CUDA was initialised in the fork server by one of its imports" in (rec.error or "")
    assert "transformers.modeling_utils" in (rec.error or "")  # the imports it tried are named


@pytest.mark.parametrize(("answer", "initialised"), [(0, True), (3, False), (100, False)])
def test_the_cuda_driver_check_reads_the_drivers_answer(
    monkeypatch: pytest.MonkeyPatch, answer: int, initialised: bool
) -> None:
    class Driver:
        def cuDeviceGetCount(self, _: object) -> int:  # the driver's own name
            return answer

    monkeypatch.setattr(forkserver.ctypes, "CDLL", lambda name: Driver())
    assert forkserver.cuda_driver_initialised() is initialised


def test_no_cuda_driver_means_not_initialised(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(forkserver.ctypes, "CDLL", missing)
    assert forkserver.cuda_driver_initialised() is False
