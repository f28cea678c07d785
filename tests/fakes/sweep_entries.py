"""Worker entries for the sweep tests: each behaves as ``$WATTSUP_TEST_SCRIPT`` says for the run's seed.

``$WATTSUP_TEST_SCRIPT`` is JSON ``{"SEED": "BEHAVIOUR"}`` (default ``ok``); every attempt appends a line to
``$WATTSUP_TEST_MARKERS/<config hash>`` (``PID PARENT_PID TIME``) so that tests can count attempts.
Behaviours:

- ``ok``: a plausible record after ``$WATTSUP_TEST_SLEEP_S`` seconds (default 0);
- ``fail``: raises on every attempt; ``fail_once``: raises on the first attempt only;
- ``kill_worker_once``: on the first attempt, kills the process that started this worker (the Ray worker
  running the task) with SIGKILL, then itself; later attempts are ``ok``.
"""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import Repetition, RunConfig, RunRecord

ENTRY = "tests.fakes.sweep_entries:scripted"
"""The sweep's ``entry`` for :func:`scripted`."""


def _attempt(config: RunConfig) -> int:
    """Record this attempt; return its number (1 for the first)."""
    folder = Path(os.environ["WATTSUP_TEST_MARKERS"])
    marker = folder / config.config_hash()
    with marker.open("a", encoding="utf-8") as f:
        f.write(f"{os.getpid()} {os.getppid()} {time.time()}\n")
    return len(marker.read_text(encoding="utf-8").splitlines())


def _record(config: RunConfig) -> RunRecord:
    started = datetime.now(UTC)
    time.sleep(float(os.environ.get("WATTSUP_TEST_SLEEP_S", "0")))
    m = Measurement(
        name="inference",
        start_s=0.0,
        duration_s=1.0,
        components=[ComponentEnergy(name="cpu", energy_j=3.6, method="modeled", error_bound_j=1.8)],
    )
    reps = [Repetition(index=i, measurement=m, inferences=config.n) for i in range(config.reps)]
    return RunRecord(config=config, repetitions=reps, started_at=started, finished_at=datetime.now(UTC))


def scripted(config: RunConfig) -> RunRecord:
    script = json.loads(os.environ.get("WATTSUP_TEST_SCRIPT") or "{}")
    behaviour = script.get(str(config.seed), "ok")
    attempt = _attempt(config)
    if behaviour == "fail" or (behaviour == "fail_once" and attempt == 1):
        raise RuntimeError("the model refused to load")
    if behaviour == "kill_worker_once" and attempt == 1:
        os.kill(os.getppid(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)
    return _record(config)
