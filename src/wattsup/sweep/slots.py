"""One run per GPU at a time on this host: the local executor's slots (``wattsup sweep FILE --gpus 0,1``).

- **Placement**: each listed GPU is a slot that runs one run at a time; a ``cuda`` run takes the first free
  slot, and its worker gets ``CUDA_VISIBLE_DEVICES`` set to that GPU's NVML index (with
  ``CUDA_DEVICE_ORDER=PCI_BUS_ID``, so CUDA numbers GPUs as NVML does): it loads its model on that GPU as
  ``cuda`` and the NVML sensor meters that GPU alone (component ``gpu:N``, N the NVML index). No two runs
  ever share a GPU. Runs that overlap share the host's CPU, so their CPU energy is charged by process tree
  (the worker's ``cpu_scope``), and each record's sharing note says so.
- **CPU runs** (device ``cpu``) run one at a time **after** the GPU runs, alone on the host, as a sweep
  without ``--gpus`` runs them. The CPU model charges a run by its process tree, so its modelled CPU energy
  would stay its own beside GPU runs; but its speed would not (a CPU run uses every core and competes with
  the GPU runs' host threads, which then feed their GPUs later), a RAPL counter is whole-socket and cannot
  be split, and the CPU run's records would not compare with those of a plain sweep.
- **Results** are stored by the driver thread as each run ends; a failed run is retried up to
  ``retries`` times in its slot; Ctrl-C stops every slot (the runs in flight are stopped, the finished
  ones kept) and the sweep resumes from the store next time.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wattsup.errors import InvalidInput, SensorUnavailable
from wattsup.records import Provenance, RunConfig, RunRecord
from wattsup.sweep.execute import (
    LOCAL_CONTEXT,
    WORKER_ENTRY,
    Plan,
    Reporter,
    RunOptions,
    SweepResult,
    failure_reason,
    outcome_of,
    worker_env,
)

if TYPE_CHECKING:
    from wattsup.results import Store

__all__ = ["CPU_RUNS", "GPUS_FLAG", "Gpu", "Slot", "gpu_slots", "resolve_gpus", "run_slots"]

GPUS_FLAG = "--gpus"
CPU_RUNS = "one at a time after the GPU runs, alone on this host (as without --gpus)"
PUMP_S = 0.2
"""How often the driver thread wakes while it waits for the slots (so that Ctrl-C is seen at once)."""

Runner = Callable[..., RunRecord]


@dataclass(frozen=True)
class Gpu:
    """A GPU that NVML numbers ``index`` (as ``nvidia-smi`` does)."""

    index: int
    name: str
    uuid: str

    @property
    def label(self) -> str:
        return f"{self.index} ({self.name}, {self.uuid})"


def _indices(spec: str) -> list[int] | None:
    """The indices ``spec`` lists, or None for ``all``."""
    text = spec.strip()
    if text.lower() == "all":
        return None
    out: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part.isdigit():
            raise InvalidInput(
                GPUS_FLAG,
                f"{part!r} is not a GPU index; give NVML indices as nvidia-smi shows them (0,1,2,3) or all",
            )
        if int(part) in out:
            raise InvalidInput(GPUS_FLAG, f"GPU {part} is listed twice; list each GPU once")
        out.append(int(part))
    return out


def resolve_gpus(spec: str) -> list[Gpu]:
    """The GPUs of ``--gpus SPEC``: ``all`` (every GPU NVML sees that this process may use, honouring
    ``CUDA_VISIBLE_DEVICES``) or NVML indices ``0,1,2,3``; :class:`InvalidInput` naming ``--gpus`` for an
    index that is not visible here, a malformed list, or a host without NVML."""
    from wattsup.sensors import nvml

    wanted = _indices(spec)
    try:
        nv = nvml.acquire()
    except SensorUnavailable as e:
        raise InvalidInput(
            GPUS_FLAG, f"places runs on NVIDIA GPUs, but none can be read here ({e}); leave --gpus out"
        ) from None
    try:
        visible = nvml.visible_indices(nv)
        limit = os.environ.get("CUDA_VISIBLE_DEVICES")
        seen = (
            f"this process may use GPU {', '.join(map(str, visible))}" if visible else "no GPU is visible"
        ) + ("" if limit is None else f" (CUDA_VISIBLE_DEVICES={limit!r})")
        if wanted is None:
            wanted = visible
        if not wanted:
            raise InvalidInput(GPUS_FLAG, f"{seen}; leave --gpus out to run on the CPU")
        for i in wanted:
            if i not in visible:
                raise InvalidInput(GPUS_FLAG, f"GPU {i} is not one of this host's: {seen}")
        gpus = []
        for i in wanted:
            gpu = nvml.NvmlGpu(nv, i)
            gpus.append(Gpu(i, gpu.name, gpu.uuid))
        return gpus
    finally:
        nvml.release()


@dataclass(frozen=True)
class Slot:
    """Where one run at a time runs: its worker's extra environment, and the runner's slot number (its own
    fork server, so that slots run at the same time)."""

    label: str
    env: Mapping[str, str]
    number: int


def gpu_slots(gpus: list[Gpu], options: RunOptions) -> list[Slot]:
    """One slot per GPU: the worker sees that GPU alone and says so in its record."""
    out = []
    for k, gpu in enumerate(gpus):
        context = {
            "executor": "local",
            "slots": len(gpus),
            "cpu_scope": "process" if len(gpus) > 1 else "machine",
            "gpu": gpu.label,
        }
        env = {
            **worker_env(options, context),
            "CUDA_VISIBLE_DEVICES": str(gpu.index),
            "CUDA_DEVICE_ORDER": "PCI_BUS_ID",
        }
        out.append(Slot(f"gpu {gpu.index}", env, k))
    return out


def check_placement(configs: list[RunConfig]) -> None:
    """A run placed on a GPU sees that GPU alone, as ``cuda`` (``cuda:0``); ``cuda:1`` and up name none."""
    for c in configs:
        _, _, index = c.device.partition(":")
        if index and index != "0":
            raise InvalidInput(
                "device",
                f"{c.device!r}: with {GPUS_FLAG} each run sees only the one GPU it is given (as cuda); "
                "use device: cuda",
            )


@dataclass(frozen=True)
class _Ended:
    config: RunConfig
    record: RunRecord
    attempts: int
    duration_s: float


class _Phase:
    """Runs ``configs`` over ``slots``, one run per slot at a time, each slot in a thread of its own; the
    driver thread (the one that calls :meth:`drive`) stores every result and reports it."""

    def __init__(self, configs: list[RunConfig], slots: list[Slot], run: Runner, options: RunOptions) -> None:
        self.todo = deque(configs)
        self.slots = slots
        self.run = run
        self.options = options
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.events: queue.Queue[tuple[str, object]] = queue.Queue()

    def _next(self) -> RunConfig | None:
        with self.lock:
            return self.todo.popleft() if self.todo and not self.stop.is_set() else None

    def _attempts(self, config: RunConfig, slot: Slot) -> tuple[RunRecord, int]:
        reasons: list[str] = []
        record: RunRecord | None = None
        for _ in range(self.options.attempts):
            record = self.run(
                config,
                timeout_s=self.options.timeout_s,
                entry=WORKER_ENTRY,
                env=dict(slot.env),
                slot=slot.number,
            )
            if record.status == "ok" or self.stop.is_set():
                return record, len(reasons) + 1
            reasons.append(record.error or "failed")
        assert record is not None
        return record.model_copy(update={"error": failure_reason(reasons, len(reasons))}), len(reasons)

    def _work(self, slot: Slot) -> None:
        try:
            while (config := self._next()) is not None:
                self.events.put(("started", config))
                t0 = time.monotonic()
                try:
                    record, attempts = self._attempts(config, slot)
                except Exception as e:  # the runner itself broke (stopped under it, ...): a failed run
                    error = f"{type(e).__name__}: {e}"
                    record = RunRecord(config=config, status="failed", error=error, provenance=Provenance())
                    attempts = 1
                self.events.put(("ended", _Ended(config, record, attempts, time.monotonic() - t0)))
        finally:
            self.events.put(("exit", slot))

    def drive(self, on_event: Callable[[str, object], None], stop_runs: Callable[[], None]) -> bool:
        """Run the phase; ``on_event`` gets each event in the driver thread. True if it was interrupted
        (Ctrl-C: no new run starts, ``stop_runs`` stops those in flight, every slot is waited for)."""
        threads = [
            threading.Thread(target=self._work, args=(s,), name=f"wattsup {s.label}", daemon=True)
            for s in self.slots
        ]
        unstarted = list(threads)
        live = len(threads)
        interrupted = False
        while live:
            try:
                while unstarted:
                    unstarted[0].start()
                    unstarted.pop(0)
                kind, item = self.events.get(timeout=PUMP_S)
                if kind == "exit":
                    live -= 1
                else:
                    on_event(kind, item)
            except queue.Empty:
                continue
            except KeyboardInterrupt:  # wherever it lands: stop every slot, wait for those that started
                interrupted = True
                self.stop.set()
                stop_runs()
                live -= sum(t.ident is None for t in unstarted)
                unstarted.clear()
        for t in threads:
            if t.ident is not None:
                t.join()
        return interrupted


def _stop_isolated_runs() -> None:
    """Stop the runs in flight of :func:`~wattsup.bench.runner.run_isolated`: a fork server whose runner
    closes it kills its run."""
    from wattsup.bench.runner import close_fork_servers

    close_fork_servers()


def run_slots(
    plan: Plan,
    store: Store,
    options: RunOptions,
    reporter: Reporter,
    gpus: list[Gpu],
    *,
    runner: Runner | None = None,
) -> SweepResult:
    """Run ``plan.todo`` with one run per GPU of ``gpus`` at a time, then the CPU runs one at a time (see the
    module doc). ``runner`` replaces :func:`~wattsup.bench.runner.run_isolated` (tests); its ``stop()``, where
    it has one, is called on Ctrl-C to stop the runs in flight."""
    from wattsup.bench.runner import run_isolated
    from wattsup.results.fallback import keep_or_save

    run = runner or run_isolated
    stop_runs: Callable[[], None] = _stop_isolated_runs
    if runner is not None:
        stop_runs = getattr(runner, "stop", None) or (lambda: None)
    check_placement(plan.todo)
    result = SweepResult(
        plan,
        "local",
        details={
            "host": os.uname().nodename,
            "written by": "this process",
            "gpus": "; ".join(g.label for g in gpus) + " (one run per GPU at a time)",
            "cpu runs": CPU_RUNS,
        },
    )
    cuda = [c for c in plan.todo if c.device.startswith("cuda")]
    cpu = [c for c in plan.todo if not c.device.startswith("cuda")]
    phases = [(cuda, gpu_slots(gpus, options)), (cpu, [Slot("cpu", worker_env(options, LOCAL_CONTEXT), 0)])]
    reporter.begin(plan, "local", len(gpus))
    t0 = time.monotonic()

    def on_event(kind: str, item: object) -> None:
        if kind == "started":
            assert isinstance(item, RunConfig)
            reporter.started(item)
            return
        assert isinstance(item, _Ended)
        if result.interrupted and item.record.status != "ok":
            return  # stopped by the interrupt: not a failure of the run, and it is not done
        problem = keep_or_save(store, item.record)
        if problem:
            result.details[f"not stored: {item.record.run_id}"] = problem
        outcome = outcome_of(item.record, item.attempts, item.duration_s)
        result.outcomes.append(outcome)
        reporter.finished(outcome)

    def stop() -> None:
        result.interrupted = True
        stop_runs()

    try:
        for configs, slots in phases:
            if configs and _Phase(configs, slots, run, options).drive(on_event, stop):
                break
    finally:
        result.elapsed_s = time.monotonic() - t0
    reporter.end(result)
    return result
