"""The isolated runner: every way a worker can end becomes a record, ok or failed with its reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wattsup.bench.runner import run_isolated
from wattsup.results.schema import RunConfig, RunRecord

HERE = Path(__file__).parent
CONFIG = RunConfig(task="text-classification", model="tiny/bert-classifier", dataset="imdb", n=4, reps=2)
ENV = {"PYTHONPATH": str(HERE)}


def run(entry: str, timeout_s: float | None = 60) -> RunRecord:
    return run_isolated(CONFIG, timeout_s=timeout_s, entry=f"fake_entries:{entry}", env=ENV)


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
            "fake_entries:ok",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["status"] == "ok" and data["config"]["n"] == 4
