"""Running a sweep: what is left to run (resume), how each finished run reaches the store, and the local
executor (one run at a time on this machine, each in a subprocess of its own through the harness runner).
The Ray executor (:mod:`wattsup.sweep.ray_exec`) shares all of this but the loop."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from wattsup.bench.worker import DEFAULT_ENTRY
from wattsup.errors import InvalidInput
from wattsup.records import RunConfig, RunRecord
from wattsup.sweep.expand import Expansion
from wattsup.sweep.worker import ENV_CONTEXT, ENV_ENTRY

if TYPE_CHECKING:
    from wattsup.results import Store
    from wattsup.sweep.slots import Gpu

Executor = Literal["local", "ray"]
EXECUTORS: tuple[Executor, ...] = ("local", "ray")

WORKER_ENTRY = "wattsup.sweep.worker:execute"
"""What the harness's isolated worker runs for a sweep: the real entry, wrapped (see :mod:`.worker`)."""


@dataclass(frozen=True)
class Plan:
    """A sweep against a store: which configurations are done already and which are left to run."""

    expansion: Expansion
    done: list[RunConfig]
    todo: list[RunConfig]
    store: str
    """Where the store is, for people."""


def plan_sweep(expansion: Expansion, store: Store) -> Plan:
    """Split the configurations into those with an ``ok`` run in ``store`` (skipped: resume) and the rest."""
    completed = store.completed_hashes()
    done = [c for c in expansion.configs if c.config_hash() in completed]
    todo = [c for c in expansion.configs if c.config_hash() not in completed]
    return Plan(expansion, done, todo, store.location)


@dataclass(frozen=True)
class Outcome:
    """How one configuration ended in this sweep (its record is in the store)."""

    config: RunConfig
    status: Literal["ok", "failed"]
    run_id: str
    error: str | None
    attempts: int | None
    """Attempts it took (the last one is the one recorded); None where the executor retried it unseen
    (Ray retries a task that succeeds in the end without telling the driver)."""
    duration_s: float
    """Wall time from submission to the result, retries included."""
    energy_kwh_per_1k: float | None = None


@dataclass
class SweepResult:
    plan: Plan
    executor: Executor
    outcomes: list[Outcome] = field(default_factory=list)
    elapsed_s: float = 0.0
    interrupted: bool = False
    details: dict[str, str] = field(default_factory=dict)
    """What the executor wants said: the cluster, where results were written, ..."""

    @property
    def ok(self) -> int:
        return sum(o.status == "ok" for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(o.status == "failed" for o in self.outcomes)

    @property
    def not_run(self) -> int:
        return len(self.plan.todo) - len(self.outcomes)

    def summary(self) -> dict[str, object]:
        return {
            "source": self.plan.expansion.source,
            "store": self.plan.store,
            "executor": self.executor,
            "configurations": len(self.plan.expansion.configs),
            "already_done": len(self.plan.done),
            "ran": len(self.outcomes),
            "ok": self.ok,
            "failed": self.failed,
            "not_run": self.not_run,
            "interrupted": self.interrupted,
            "elapsed_s": round(self.elapsed_s, 3),
            "details": self.details,
            "failures": [
                {
                    "config_hash": o.config.config_hash(),
                    "task": o.config.task,
                    "model": o.config.model,
                    "dataset": o.config.dataset,
                    "run_id": o.run_id,
                    "attempts": o.attempts,
                    "error": o.error,
                }
                for o in self.outcomes
                if o.status == "failed"
            ],
        }


class Reporter(Protocol):
    """Follows a sweep as it runs (the CLI draws a progress bar with it)."""

    def begin(self, plan: Plan, executor: Executor, slots: int) -> None: ...

    def started(self, config: RunConfig) -> None: ...

    def finished(self, outcome: Outcome) -> None: ...

    def end(self, result: SweepResult) -> None: ...


class NullReporter:
    def begin(self, plan: Plan, executor: Executor, slots: int) -> None:
        return None

    def started(self, config: RunConfig) -> None:
        return None

    def finished(self, outcome: Outcome) -> None:
        return None

    def end(self, result: SweepResult) -> None:
        return None


@dataclass(frozen=True)
class RunOptions:
    """How each run is executed, for every executor."""

    retries: int = 2
    timeout_s: float | None = None
    entry: str = DEFAULT_ENTRY
    """``MODULE:FUNCTION`` that runs a RunConfig in the isolated worker (tests and benchmarks swap it)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for the isolated worker."""

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise InvalidInput("--retries", f"must be 0 or more, got {self.retries}")

    @property
    def attempts(self) -> int:
        return self.retries + 1


def worker_env(options: RunOptions, context: Mapping[str, object]) -> dict[str, str]:
    """The isolated worker's extra environment: the caller's, the entry to wrap and the run's placement."""
    return {**options.env, ENV_ENTRY: options.entry, ENV_CONTEXT: json.dumps(dict(context))}


def failure_reason(reasons: list[str], attempts: int) -> str:
    """The reason recorded for a run that failed every attempt: the last one, and the earlier ones if they
    differ."""
    last = reasons[-1] if reasons else "failed"
    if attempts <= 1:
        return last
    earlier = [r for r in dict.fromkeys(reasons[:-1]) if r != last]
    text = f"{last} (all {attempts} attempts failed"
    return text + (f"; earlier: {' | '.join(earlier)})" if earlier else ")")


def energy_of(record: RunRecord) -> float | None:
    per_rep = record.kwh_per_1k()
    return sum(per_rep) / len(per_rep) if per_rep else None


def outcome_of(record: RunRecord, attempts: int | None, duration_s: float) -> Outcome:
    return Outcome(
        config=record.config,
        status=record.status,
        run_id=record.run_id,
        error=record.error,
        attempts=attempts,
        duration_s=duration_s,
        energy_kwh_per_1k=energy_of(record) if record.status == "ok" else None,
    )


LOCAL_CONTEXT = {
    "executor": "local",
    "slots": 1,
    "cpu_scope": "machine",
}


def run_local(
    plan: Plan,
    store: Store,
    options: RunOptions,
    reporter: Reporter,
    *,
    runner: Callable[..., RunRecord] | None = None,
    gpus: list[Gpu] | None = None,
) -> SweepResult:
    """One run at a time, each in its own subprocess (the harness runner); each result is stored as soon as
    it is known, so a killed sweep keeps every finished run. A failed run is tried again up to
    ``options.retries`` times; only its last attempt is recorded. With ``gpus``: one run per GPU at a time
    (:mod:`wattsup.sweep.slots`)."""
    if gpus:
        from wattsup.sweep.slots import run_slots

        return run_slots(plan, store, options, reporter, gpus, runner=runner)
    from wattsup.bench.runner import run_isolated
    from wattsup.results.fallback import keep_or_save

    run = runner or run_isolated
    result = SweepResult(plan, "local", details={"host": os.uname().nodename, "written by": "this process"})
    reporter.begin(plan, "local", 1)
    t0 = time.monotonic()
    env = worker_env(options, LOCAL_CONTEXT)
    try:
        for config in plan.todo:
            reporter.started(config)
            started = time.monotonic()
            reasons: list[str] = []
            record: RunRecord | None = None
            for _ in range(options.attempts):
                record = run(config, timeout_s=options.timeout_s, entry=WORKER_ENTRY, env=env)
                if record.status == "ok":
                    break
                reasons.append(record.error or "failed")
            assert record is not None
            if record.status != "ok":
                record = record.model_copy(update={"error": failure_reason(reasons, len(reasons))})
            problem = keep_or_save(store, record)  # a store that fails now loses no run: a file has it
            if problem:
                result.details[f"not stored: {record.run_id}"] = problem
            outcome = outcome_of(record, len(reasons) + (record.status == "ok"), time.monotonic() - started)
            result.outcomes.append(outcome)
            reporter.finished(outcome)
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        result.elapsed_s = time.monotonic() - t0
    reporter.end(result)
    return result
