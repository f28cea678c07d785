"""The library surface of sweeps: plan one (what is left to run against a store) and run it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from wattsup.bench.api import check_device, check_timeout
from wattsup.bench.worker import DEFAULT_ENTRY
from wattsup.errors import InvalidInput
from wattsup.sweep.execute import (
    EXECUTORS,
    NullReporter,
    Plan,
    Reporter,
    RunOptions,
    SweepResult,
    plan_sweep,
    run_local,
)
from wattsup.sweep.expand import Expansion, load_sweep


def _expansion(source: str | Path | Expansion) -> Expansion:
    return source if isinstance(source, Expansion) else load_sweep(source)


def plan(source: str | Path | Expansion, db: str | None = None) -> Plan:
    """Expand and validate a sweep file and split it into configurations done already in the store ``db``
    and those left to run. Runs nothing (``wattsup sweep --dry-run``)."""
    from wattsup.results import Store, StoreMissing

    expansion = _expansion(source)
    try:
        store = Store.open(db, create=False)  # a dry run never creates the store
    except StoreMissing:
        from wattsup.results.store import location_of

        with Store.open("sqlite://") as empty:  # no store yet: nothing done, everything to run
            found = plan_sweep(expansion, empty)
        return dataclasses.replace(found, store=f"{location_of(db)} (no store there yet)")
    with store:
        return plan_sweep(expansion, store)


def run_sweep(
    source: str | Path | Expansion,
    *,
    executor: str = "local",
    db: str | None = None,
    address: str | None = None,
    workers: int | None = None,
    retries: int | None = None,
    timeout_s: float | None = None,
    entry: str = DEFAULT_ENTRY,
    env: Mapping[str, str] | None = None,
    reporter: Reporter | None = None,
    gpus: str | None = None,
) -> SweepResult:
    """Run every configuration of a sweep that the store ``db`` does not hold an ``ok`` run of.

    ``executor``: ``local`` (one run at a time here) or ``ray`` (one Ray task per run, on the cluster at
    ``address``, else on the Ray connection this process has, else on a local cluster started for the
    sweep). ``workers``: at most this many runs at once (Ray). ``retries``, ``timeout_s``: override the
    sweep file's. ``entry``/``env``: the function the isolated worker runs and extra environment for it
    (tests and benchmarks). ``gpus``: ``all`` or NVML indices ``0,1``: the local executor runs one run per
    listed GPU at a time (:mod:`wattsup.sweep.slots`). Each finished run is stored as soon as it is known."""
    from wattsup.results import Store

    if executor not in EXECUTORS:
        raise InvalidInput("--executor", f"must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor != "ray" and address is not None:
        raise InvalidInput("--address", "names a Ray cluster: use it with --executor ray")
    if workers is not None and workers < 1:
        raise InvalidInput("--workers", f"must be at least 1, got {workers}")
    if executor == "local" and workers not in (None, 1):
        raise InvalidInput("--workers", "the local executor runs one run at a time; use --executor ray")
    if gpus is not None and executor != "local":
        raise InvalidInput("--gpus", "places runs on this host's GPUs (local executor); Ray places its own")
    expansion = _expansion(source)
    spec = expansion.spec
    options = RunOptions(
        retries=spec.retries if retries is None else retries,
        timeout_s=spec.timeout_s if timeout_s is None else timeout_s,
        entry=entry,
        env=dict(env or {}),
    )
    report = reporter or NullReporter()
    if options.timeout_s is not None:
        check_timeout(options.timeout_s, "--timeout")
    placed = None
    if gpus is not None:
        from wattsup.sweep.slots import check_placement, resolve_gpus

        placed = resolve_gpus(gpus)
        check_placement(expansion.configs)
    if executor == "local":  # runs here: refuse a device this machine lacks before anything runs
        for device in sorted({c.device for c in expansion.configs}):
            check_device(device)
    with Store.open(db) as store:
        todo = plan_sweep(expansion, store)
        if executor == "local":
            return run_local(todo, store, options, report, gpus=placed)
        from wattsup.sweep.ray_exec import run_ray

        return run_ray(todo, store, options, report, ray_options=spec.ray, address=address, workers=workers)
