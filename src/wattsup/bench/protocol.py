"""One run, in this process: load (metered once), warm up, then ``reps`` metered windows of ``n`` inferences.

This is what the isolated worker executes; call :func:`wattsup.bench.runner.run_isolated` to run a
configuration in a subprocess of its own.
"""

from __future__ import annotations

import functools
import gc
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from wattsup import __version__
from wattsup.bench.inputs import InputSet, default_dataset, resolve_inputs
from wattsup.bench.tasks import get_task_info, task_class
from wattsup.bench.tasks.base import PhaseFn, Task, no_phase
from wattsup.errors import InvalidInput
from wattsup.meter import Measurement, Meter, PendingMeasurement
from wattsup.records import Provenance, Repetition, RunConfig, RunRecord

T = TypeVar("T")
Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) as a run advances: stages 'load', 'warmup', 'rep N'."""


def normalise(config: RunConfig) -> RunConfig:
    """The canonical form of a configuration: task name resolved from aliases, zero-shot mode for a
    multi-purpose catalog model on one of its prompted tasks, default dataset and generation length filled
    in, so that equal runs hash equally."""
    from wattsup.bench.catalog import load_catalog
    from wattsup.bench.tasks.zero_shot import NEW_TOKENS

    info = get_task_info(config.task)
    update: dict[str, Any] = {"task": info.name}
    mode = config.mode
    entry = load_catalog().find(config.model)
    if entry is not None and info.name in entry.zero_shot_tasks and entry.task != info.name:
        mode = update["mode"] = "zero-shot"
    if not config.dataset:
        update["dataset"] = default_dataset(info.name)
    if config.max_new_tokens is None:
        n = NEW_TOKENS.get(info.name) if mode == "zero-shot" else info.max_new_tokens
        if n is not None:
            update["max_new_tokens"] = n
    return config.revised(**update)


def seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _sync_for(device: str) -> Callable[[], Any] | None:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return None


BENCH_PACKAGES = ("torch", "transformers", "tokenizers", "datasets", "diffusers", "pillow", "numpy")


def host_provenance(packages: tuple[str, ...] = BENCH_PACKAGES) -> Provenance:
    """What can be said about this machine without a model: host, OS, Python, CPU, RAM, GPUs, and the
    versions of ``packages``."""
    import importlib.metadata as md

    import psutil

    libs = {}
    for pkg in packages:
        try:
            libs[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    gpus: list[str] = []
    cuda = None
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        cuda = torch.version.cuda
    return Provenance(
        hostname=platform.node(),
        os=platform.platform(),
        python=platform.python_version(),
        cpu_model=_cpu_model(),
        cpu_count=os.cpu_count(),
        ram_gb=round(psutil.virtual_memory().total / 1e9, 1),
        gpus=gpus,
        gpu_driver=_driver_version(),
        cuda=cuda,
        libraries=libs,
        wattsup_version=__version__,
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _driver_version() -> str | None:
    # through the meter's reference count: a plain nvmlShutdown here would end NVML under a sampler
    # thread of this process (WATTSUP_SAMPLER=thread)
    try:
        from wattsup.sensors import nvml

        nv = nvml.acquire()
        try:
            v = nv.nvmlSystemGetDriverVersion()
            return v.decode() if isinstance(v, bytes) else str(v)
        finally:
            nvml.release()
    except Exception:  # no NVML, no driver: unknown
        return None


def sensors_of(m: Measurement) -> dict[str, str]:
    """Component -> 'METHOD: DETAIL' (a detail that already opens with the method, as the meter's modelled
    sources' do, is not prefixed twice)."""
    return {c.name: sensor_text(str(c.method), c.detail) for c in m.components}


def sensor_text(method: str, detail: str) -> str:
    for prose in (method, "modelled" if method == "modeled" else method):
        if detail.startswith(prose + ":"):
            detail = detail[len(prose) + 1 :].lstrip()
    return f"{method}: {detail}" if detail else method


def load_inputs(task: Task, config: RunConfig) -> InputSet:
    return resolve_inputs(
        config.dataset,
        task.fields,
        task.name,
        config.n,
        config.seed,
        columns=task.settings.columns,
        resize=task.settings.resize,
    )


def run_batches(
    task: Task,
    batches: list[list[dict[str, Any]]],
    phase: PhaseFn,
    latencies: list[float],
    done: Callable[[int, int], None] | None = None,
) -> int:
    """The metered loop's body: run ``batches`` one after the other, appending each batch's latency
    (less the time the task excludes, such as the separate prefill pass) to ``latencies``; returns the
    output units produced. ``done`` is called with (batches finished, batches) after each one."""
    units = 0
    clock = time.perf_counter
    for i, batch in enumerate(batches):
        t0 = clock()
        res = task.run(batch, phase)
        latencies.append(clock() - t0 - res.excluded_s)
        units += res.units
        if done is not None:
            done(i + 1, len(batches))
    return units


def torch_threads() -> int:
    """The intra-op thread count every run uses, whatever executes it (a sweep on Ray sets
    OMP_NUM_THREADS=1, a plain process takes torch's default): ``WATTSUP_TORCH_THREADS``, else the
    machine's physical cores."""
    import psutil

    raw = os.environ.get("WATTSUP_TORCH_THREADS")
    if raw:
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise InvalidInput("WATTSUP_TORCH_THREADS", f"must be a whole number of threads ≥ 1, got {raw!r}")
        return n
    return max(psutil.cpu_count(logical=False) or os.cpu_count() or 1, 1)


def run_provenance(task: Task, threads: int, window: Measurement) -> Provenance:
    """Where and how the run was measured: the host, the sensors of ``window``, the threads, and what
    the task's backend loaded (weights, parameters, tokenizer, processor)."""
    prov = host_provenance()
    prov.sensors = sensors_of(window)
    prov.torch_threads = threads
    prov.omp_wait_policy = os.environ.get("OMP_WAIT_POLICY")
    prov.worker_start = os.environ.get("WATTSUP_WORKER_START")
    cpu = next((c for c in window.components if c.name == "cpu"), None)
    if cpu is not None:
        prov.cpu_scope = "machine" if "machine-wide" in cpu.detail else "process tree"
    notes = task.provenance
    prov.weights_source = "; ".join(
        v
        for v in (
            notes.get("weights", ""),
            f"{int(notes['parameters']):,} parameters" if "parameters" in notes else "",
            f"tokenizer: {notes['tokenizer']}" if "tokenizer" in notes else "",
            f"processor: {notes['processor']}" if "processor" in notes else "",
        )
        if v
    )
    return prov


def in_window(meter: Meter, work: Callable[[], T], windows: list[PendingMeasurement]) -> T:
    """``work()`` inside a window of ``meter``, closed with ``stop_later`` whether it succeeds or fails and
    added to ``windows`` (whose results the caller takes later, or gives up)."""
    meter.start()
    try:
        return work()
    finally:
        windows.append(meter.stop_later())


def execute(config: RunConfig, progress: Progress | None = None) -> RunRecord:
    """Run ``config`` here and return its record. Errors propagate (the worker records them)."""
    import torch

    threads = torch_threads()
    torch.set_num_threads(threads)
    config = normalise(config)
    report = progress or (lambda stage, done, total: None)
    started = datetime.now(UTC)
    seed_everything(config.seed)
    task: Task = task_class(config.task, config.mode)(config)
    inputs = load_inputs(task, config)
    sync = _sync_for(config.device)

    report("load", 0, 1)
    # every window's figures are taken at the run's end: the wait for the sensors to observe past a window's
    # end (the NVML counter's next step, 0.1-0.5 s) overlaps the work that follows instead of idling it
    windows: list[PendingMeasurement] = []
    try:
        in_window(Meter(name="load", sync=sync), task.load, windows)
        report("load", 1, 1)

        batches = [
            [inputs[i] for i in range(s, min(s + config.batch_size, config.n))]
            for s in range(0, config.n, config.batch_size)
        ]
        runs: list[tuple[list[float], int]] = []
        with torch.inference_mode():
            warm = [
                [inputs[i] for i in range(s, min(s + config.batch_size, config.warmup))]
                for s in range(0, config.warmup, config.batch_size)
            ]
            for i, batch in enumerate(warm):
                task.run(batch, no_phase)
                report("warmup", i + 1, len(warm))
            for r in range(config.reps):
                # no device sync entering a phase, nor leaving "preprocess" (host work and input copies):
                # each sync costs a 5 ms GPU inference ~0.5-1% (benchmarks/RESULTS.md)
                meter = Meter(
                    name="inference",
                    sync=sync,
                    sync_phases=True,
                    sync_phase_enter=False,
                    host_phases=("preprocess",),
                )
                latencies: list[float] = []
                progress_of_rep = functools.partial(report, f"rep {r + 1}")
                # garbage left by loading and earlier repetitions is collected now, not in the window
                gc.collect()
                units = in_window(
                    meter,
                    functools.partial(run_batches, task, batches, meter.phase, latencies, progress_of_rep),
                    windows,
                )
                runs.append((latencies, units))
        load = windows[0].result()
        reps = [
            Repetition(
                index=r,
                measurement=task.finalize(w.result()),
                inferences=config.n,
                latencies_s=latencies,
                output_units=units,
            )
            for r, (w, (latencies, units)) in enumerate(zip(windows[1:], runs, strict=True))
        ]
    finally:  # a run that failed gives its windows up: their readings need not be kept
        for w in windows:
            w.cancel()

    prov = run_provenance(task, threads, reps[0].measurement if reps else load)
    prov.input_source = inputs.source
    return RunRecord(
        config=config,
        status="ok",
        n_params=int(task.provenance["parameters"]) if "parameters" in task.provenance else None,
        started_at=started,
        finished_at=datetime.now(UTC),
        load=load,
        repetitions=reps,
        provenance=prov,
    )
