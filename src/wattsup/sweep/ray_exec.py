"""The Ray executor: one Ray task per run, each run in its own subprocess on the node Ray picked.

- **Resources**: a run on ``cuda`` asks for ``gpus_per_run`` whole GPUs (``num_gpus``) and
  ``cpus_per_run`` CPUs; a CPU run asks for ``cpus_per_run`` CPUs. Ray never gives one GPU to two tasks at
  once, and sets ``CUDA_VISIBLE_DEVICES`` in the task's worker to the GPUs it gave; the run's subprocess
  inherits it and the NVML sensor meters those GPUs only. A CPU run gets ``CUDA_VISIBLE_DEVICES=""``, so it
  meters no GPU (another run's).
- **Retries**: a failed run raises :class:`RunFailed` in its task, so Ray's own retry
  (``max_retries`` with ``retry_exceptions=[RunFailed]``) runs it again; a worker that dies (killed, out
  of memory, node lost) is retried by the same ``max_retries``. When the attempts are spent the driver
  records the failure with its reason, once.
- **Results** come back to the driver, which stores each as it arrives. Where the workers can reach the
  store (PostgreSQL; or a SQLite file when every node is this host), each task also stores its own
  record before returning, so a run that finished is kept even if the driver dies; the store is
  idempotent on ``run_id``, and a retried task first checks that its configuration is not already done.
- **Backpressure**: at most as many tasks are submitted as the cluster can run at once (re-read every
  few seconds, so added nodes are used), so "running" means running.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from wattsup.errors import InvalidInput, WattsupError
from wattsup.records import Provenance, RunConfig, RunRecord
from wattsup.sweep.execute import (
    WORKER_ENTRY,
    Outcome,
    Plan,
    Reporter,
    RunOptions,
    SweepResult,
    energy_of,
    failure_reason,
    outcome_of,
    worker_env,
)
from wattsup.sweep.spec import RayOptions

if TYPE_CHECKING:
    from wattsup.results import Store

CAPACITY_REFRESH_S = 10.0
WAIT_S = 1.0
ALREADY_DONE = "already_done"


class SweepError(WattsupError):
    """The sweep cannot run as asked (a cluster without the resources its runs need, ...)."""


class RunFailed(Exception):
    """Raised in a Ray task whose run failed, so that Ray retries it; carries the failed record (JSON).
    ``str()`` is the reason only, since Ray prints it at every retry."""

    def __init__(self, record_json: str) -> None:
        super().__init__(record_json)
        self.record_json = record_json

    def __str__(self) -> str:
        try:
            return str(json.loads(self.record_json).get("error") or "failed")
        except ValueError:
            return "failed"


def _ray() -> Any:
    """The ray module, untyped (it has no stubs), imported where it is used: Ray is an optional extra."""
    try:
        import ray
    except ImportError:
        raise SweepError("the ray executor needs Ray: pip install 'wattsup[ray]'") from None
    return ray


def _is_cuda(config: RunConfig) -> bool:
    return config.device.startswith("cuda")


def task_resources(config: RunConfig, ray_options: RayOptions) -> tuple[float, int]:
    """(num_cpus, num_gpus) for the Ray task of ``config``."""
    return ray_options.cpus_per_run, ray_options.gpus_per_run if _is_cuda(config) else 0


def node_slots(resources: Mapping[str, float], cpus: float, gpus: int) -> int:
    """How many runs needing ``cpus`` CPUs and ``gpus`` GPUs one node with ``resources`` holds at once."""
    n = math.floor(float(resources.get("CPU", 0.0)) / cpus + 1e-9)
    if gpus:
        n = min(n, math.floor(float(resources.get("GPU", 0.0)) / gpus + 1e-9))
    return max(n, 0)


def cluster_slots(
    nodes: list[dict[str, Any]], configs: list[RunConfig], ray_options: RayOptions
) -> dict[str, int]:
    """Runs the alive nodes hold at once, per kind of run present in ``configs`` (``cpu``, ``cuda``)."""
    kinds = {"cuda" if _is_cuda(c) else "cpu" for c in configs}
    out = {}
    for kind in sorted(kinds):
        gpus = ray_options.gpus_per_run if kind == "cuda" else 0
        out[kind] = sum(node_slots(n.get("Resources", {}), ray_options.cpus_per_run, gpus) for n in nodes)
    return out


def check_cluster(nodes: list[dict[str, Any]], configs: list[RunConfig], ray_options: RayOptions) -> int:
    """The number of runs the cluster holds at once; :class:`SweepError` when a kind of run fits nowhere
    (``cuda`` runs on a CPU-only cluster) and :class:`InvalidInput` for a device the run cannot see."""
    for c in configs:
        _, _, index = c.device.partition(":")
        if index and int(index) >= ray_options.gpus_per_run:
            raise InvalidInput(
                "device",
                f"{c.device!r}: on Ray each run sees only the {ray_options.gpus_per_run} GPU(s) it is given "
                "(cuda:0 ...); use 'cuda', or raise ray.gpus_per_run",
            )
    slots = cluster_slots(nodes, configs, ray_options)
    for kind, n in slots.items():
        if n == 0:
            need = f"{ray_options.cpus_per_run:g} CPU"
            if kind == "cuda":
                need += f" and {ray_options.gpus_per_run} GPU"
            have = ", ".join(
                f"{n.get('NodeManagerAddress', '?')}: {n.get('Resources', {}).get('CPU', 0):g} CPU, "
                f"{n.get('Resources', {}).get('GPU', 0):g} GPU"
                for n in nodes
            )
            raise SweepError(
                f"no node of the Ray cluster can run the {kind} runs of this sweep: each needs {need} "
                f"(nodes: {have or 'none'}); "
                + (
                    "run them on a cluster with GPUs, or set device: cpu"
                    if kind == "cuda"
                    else "lower ray.cpus_per_run in the sweep file"
                )
            )
    return max(sum(slots.values()), 1)


# ----------------------------------------------------------------------------- in the Ray worker


def _open_worker_store(db: str | None) -> Store | None:
    """The store, if this worker can reach it; else None (the driver then stores the record)."""
    if not db:
        return None
    if "://" not in db and not Path(db).is_file():  # a SQLite file that is not on this node
        return None
    from wattsup.results import Store

    try:
        return Store.open(db)
    except WattsupError:
        return None


def _stored_run_id(store: Store | None, config: RunConfig) -> str | None:
    """The id of an ok run of ``config`` in ``store`` (an earlier attempt may have stored it, then died)."""
    from wattsup.results import RunFilter

    if store is None:
        return None
    try:
        done = store.list_runs(RunFilter(config_hash=config.config_hash(), status="ok"), limit=1)
    except (WattsupError, SQLAlchemyError):  # unreachable now: run it; the store is idempotent
        return None
    return done[0].run_id if done else None


def _run_env(ray: Any, task: dict[str, Any]) -> dict[str, str]:
    """The run subprocess's environment: placement context, and the GPUs Ray gave this task alone."""
    import os

    ctx = ray.get_runtime_context()
    node_id = ctx.get_node_id()
    node: dict[str, Any] = next((n for n in ray.nodes() if n.get("NodeID") == node_id), {})
    slots = max(
        (node_slots(node.get("Resources", {}), task["cpus"], g) for g in task["kinds_gpus"]), default=1
    )
    context = {
        "executor": "ray",
        "node": node.get("NodeManagerAddress", node_id[:12]),
        "slots": max(slots, 1),
        "cpu_scope": "process",
        "libraries": {"ray": ray.__version__},
    }
    env = worker_env(RunOptions(entry=task["entry"], env=task["env"]), context)
    if "CUDA_DEVICE_ORDER" not in os.environ:  # CUDA numbers GPUs as NVML does: the run's GPU is metered
        env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
    gpus = [str(g) for g in ctx.get_accelerator_ids().get("GPU", [])]
    if not gpus:
        env["CUDA_VISIBLE_DEVICES"] = ""  # a CPU run meters no GPU: the node's GPUs belong to other runs
    elif os.environ.get("CUDA_VISIBLE_DEVICES") != ",".join(gpus):
        env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)  # Ray was told not to set it: do it here
    return env


def run_task(config_json: str, task: dict[str, Any]) -> str:
    """The body of a sweep's Ray task: run one configuration in its own subprocess and return its record
    as JSON; raise :class:`RunFailed` if it failed (Ray then retries it)."""
    from wattsup.bench.runner import run_isolated

    ray = _ray()
    config = RunConfig.model_validate_json(config_json)
    store = _open_worker_store(task.get("worker_db"))
    try:
        stored = _stored_run_id(store, config)
        if stored is not None:
            return json.dumps({ALREADY_DONE: stored})
        record = run_isolated(
            config, timeout_s=task["timeout_s"], entry=WORKER_ENTRY, env=_run_env(ray, task)
        )
        if record.status != "ok":
            raise RunFailed(record.model_dump_json())
        if store is not None:
            with contextlib.suppress(WattsupError, SQLAlchemyError):  # the driver stores it anyway
                store.add(record)
        return record.model_dump_json()
    finally:
        if store is not None:
            store.close()


# --------------------------------------------------------------------------------- the driver


def _worker_db(store: Store, nodes: list[dict[str, Any]]) -> tuple[str | None, str]:
    """Where the workers write (None: only the driver does), and the sentence that says so."""
    ray = _ray()

    if store.dialect != "sqlite":
        return (
            store.engine.url.render_as_string(hide_password=False),
            "each worker stores its run, and this driver stores what comes back (idempotent)",
        )
    path = Path(store.location)
    if not path.is_file():
        return None, "this driver (an in-memory store)"
    here = ray.util.get_node_ip_address()
    if nodes and all(n.get("NodeManagerAddress") == here for n in nodes):
        return str(path), "each worker stores its run (SQLite, one host), as does this driver (idempotent)"
    return None, (
        "this driver, as results come back (a SQLite file is not reachable from other nodes; "
        "give --db a PostgreSQL URL to have the workers store their runs)"
    )


def _reason(err: BaseException) -> str:
    lines = [ln for ln in str(err).strip().splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    name = type(err).__name__
    rex = _ray().exceptions

    if isinstance(err, (rex.WorkerCrashedError, rex.NodeDiedError, rex.LocalRayletDiedError)):
        return f"the Ray worker running it died ({name}: {first})"
    if isinstance(err, rex.OutOfMemoryError):
        return f"Ray's memory monitor killed its worker (out of memory): {first}"
    if isinstance(err, rex.TaskCancelledError):
        return "cancelled"
    if isinstance(err, rex.RayTaskError) and err.cause is not None:
        cause = err.cause
        return f"{type(cause).__name__}: {str(cause).strip().splitlines()[0] if str(cause).strip() else ''}"
    return f"{name}: {first}" if first else name


def _connect(address: str | None, workers: int | None, ray_options: RayOptions) -> bool:
    """Connect to Ray (or start a local cluster); returns whether this call started it."""
    ray = _ray()

    if ray.is_initialized():
        return False
    kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address is None:
        kwargs["include_dashboard"] = False
        if workers is not None:
            kwargs["num_cpus"] = max(1, math.ceil(workers * ray_options.cpus_per_run))
    else:
        kwargs["address"] = address
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = f"the Ray cluster at {address!r}" if address else "a local Ray cluster"
        raise SweepError(
            f"cannot connect to {where}: {str(err).strip().splitlines()[0]}; check --address "
            "(host:6379 of the head node, ray://host:10001, or auto)"
        ) from None
    return True


def _cluster_setup(
    ray: Any, plan: Plan, store: Store, options: RunOptions, ray_options: RayOptions, workers: int | None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """Runs at once (the cluster's room, at most ``workers``), the cluster as the result describes it,
    and the arguments every task gets (where it writes its record among them)."""
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    capacity = check_cluster(nodes, plan.todo, ray_options)
    cap = min(capacity, workers) if workers else capacity
    worker_db, written_by = _worker_db(store, nodes)
    resources = ray.cluster_resources()
    details = {
        "cluster": f"{len(nodes)} node(s), {resources.get('CPU', 0):g} CPU, {resources.get('GPU', 0):g} GPU",
        "runs at once": str(cap),
        "written by": written_by,
    }
    task_args: dict[str, Any] = {
        "entry": options.entry,
        "env": dict(options.env),
        "timeout_s": options.timeout_s,
        "worker_db": worker_db,
        "cpus": ray_options.cpus_per_run,
        "kinds_gpus": sorted({task_resources(c, ray_options)[1] for c in plan.todo}),
    }
    return cap, details, task_args


def run_ray(
    plan: Plan,
    store: Store,
    options: RunOptions,
    reporter: Reporter,
    *,
    ray_options: RayOptions,
    address: str | None = None,
    workers: int | None = None,
) -> SweepResult:
    """Run ``plan.todo`` on Ray (see the module doc). Uses the Ray connection this process has, if any;
    else connects to ``address`` or starts a local cluster (sized for ``workers`` runs at once), and
    shuts down what it started."""
    ray = _ray()
    result = SweepResult(plan, "ray")
    if not plan.todo:  # resumed a finished sweep: no cluster needed
        reporter.begin(plan, "ray", 0)
        reporter.end(result)
        return result
    started_here = _connect(address, workers, ray_options)
    pending: dict[Any, tuple[RunConfig, float]] = {}
    t0 = time.monotonic()
    try:
        cap, result.details, task_args = _cluster_setup(ray, plan, store, options, ray_options, workers)
        remote = ray.remote(run_task)
        reporter.begin(plan, "ray", cap)
        queue = deque(plan.todo)
        refreshed = time.monotonic()
        while queue or pending:
            if workers is None and time.monotonic() - refreshed > CAPACITY_REFRESH_S:
                alive = [n for n in ray.nodes() if n.get("Alive")]
                cap = max(sum(cluster_slots(alive, plan.todo, ray_options).values()), 1)
                refreshed = time.monotonic()
            while queue and len(pending) < cap:
                config = queue.popleft()
                cpus, gpus = task_resources(config, ray_options)
                ref = remote.options(
                    num_cpus=cpus,
                    num_gpus=gpus,
                    max_retries=options.retries,
                    retry_exceptions=[RunFailed],
                    name=f"wattsup {config.task} {config.model}",
                ).remote(config.model_dump_json(), task_args)
                pending[ref] = (config, time.monotonic())
                reporter.started(config)
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_S)
            if ready:
                rest = [r for r in pending if r not in ready]
                more, _ = ray.wait(rest, num_returns=len(rest), timeout=0) if rest else ([], [])
                ready = ready + more
            for ref in ready:
                config, submitted = pending.pop(ref)
                outcome = _collect(ray, ref, config, submitted, store, options)
                result.outcomes.append(outcome)
                reporter.finished(outcome)
    except KeyboardInterrupt:
        result.interrupted = True
        for ref in pending:  # KeyboardInterrupt in each task: the harness runner stops its subprocess
            ray.cancel(ref)
    finally:
        result.elapsed_s = time.monotonic() - t0
        if started_here:
            ray.shutdown()
    reporter.end(result)
    return result


def _collect(
    ray: Any, ref: Any, config: RunConfig, submitted: float, store: Store, options: RunOptions
) -> Outcome:
    """Store what one task ended with and say how it went."""
    took = time.monotonic() - submitted
    try:
        payload: str = ray.get(ref)
    except Exception as err:  # the run failed on every attempt, or its worker died on every attempt
        cause = err.cause if isinstance(err, ray.exceptions.RayTaskError) else err
        if isinstance(cause, RunFailed):
            record = RunRecord.model_validate_json(cause.record_json)
            record = record.model_copy(
                update={"error": failure_reason([record.error or "failed"], options.attempts)}
            )
        else:
            record = RunRecord(
                config=config,
                status="failed",
                error=failure_reason([_reason(err)], options.attempts),
                provenance=Provenance(),
            )
        store.keep(record)
        return outcome_of(record, options.attempts, took)
    data = json.loads(payload)
    if ALREADY_DONE in data:
        return Outcome(config, "ok", str(data[ALREADY_DONE]), None, None, took)
    record = RunRecord.model_validate(data)
    store.keep(record)
    return Outcome(config, "ok", record.run_id, None, None, took, energy_of(record))
