"""Tiny worker entry points for the runner tests: each takes a RunConfig and behaves as its name says."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import Repetition, RunConfig, RunRecord


def ok(config: RunConfig) -> RunRecord:
    m = Measurement(
        name="inference",
        start_s=0.0,
        duration_s=2.0,
        components=[ComponentEnergy(name="cpu", energy_j=36.0, method="modeled", error_bound_j=1.0)],
    )
    reps = [
        Repetition(index=i, measurement=m, inferences=config.n, latencies_s=[0.1] * config.n)
        for i in range(config.reps)
    ]
    return RunRecord(config=config, repetitions=reps)


def raises(config: RunConfig) -> RunRecord:
    raise RuntimeError("the model refused to load")


def oom(config: RunConfig) -> RunRecord:
    raise MemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")


def exits(config: RunConfig) -> RunRecord:
    os._exit(3)


def killed(config: RunConfig) -> RunRecord:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def hangs(config: RunConfig) -> RunRecord:
    time.sleep(600)
    raise AssertionError("unreachable")


SEEN: list[int] = []


def remembers(config: RunConfig) -> RunRecord:
    """Fails with how many earlier runs this process has seen: 0 if every run has a process of its own."""
    SEEN.append(os.getpid())
    raise RuntimeError(f"seen {len(SEEN) - 1} earlier runs")


def reports_progress(config: RunConfig, progress: Callable[[str, int, int], None]) -> RunRecord:
    for r in range(config.reps):
        for i in range(config.n):
            progress(f"rep {r + 1}", i + 1, config.n)
    return ok(config)


def hangs_after_saying_where(config: RunConfig) -> RunRecord:
    """Writes its pid and working directory to $WATTSUP_TEST_PIDFILE, then hangs."""
    with open(os.environ["WATTSUP_TEST_PIDFILE"] + ".part", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.replace(os.environ["WATTSUP_TEST_PIDFILE"] + ".part", os.environ["WATTSUP_TEST_PIDFILE"])
    time.sleep(600)
    raise AssertionError("unreachable")


def says_its_omp_policy(config: RunConfig) -> RunRecord:
    raise RuntimeError(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}")


def says_how_it_started(config: RunConfig) -> RunRecord:
    """Fails with how its process started, whether the meter's shared sampler was running before the run
    asked for it, and how many earlier runs this process has seen."""
    from wattsup.meter import meter

    running = meter._shared is not None and meter._shared.running
    SEEN.append(os.getpid())
    raise RuntimeError(
        f"start={os.environ.get('WATTSUP_WORKER_START')} sampler={running} seen={len(SEEN) - 1}"
    )
