"""What a phase per inference costs, taken apart (issue 13), on whatever machine runs it.

The in-process GPU benchmark (``gpu_inprocess_bench.py``, overhead part) measured 2.3% throughput lost to a
phase around every inference of a Python-bound loop on an H100 host: 4.2 µs per phase there, against
0.7 µs for the same ``with m.phase(...)`` on the 2-core development VM. This benchmark says where those
microseconds go on the machine it runs on:

1. the host's clock source and the cost of one read of each Python clock (``time.monotonic``,
   ``time.perf_counter``, ``time.monotonic_ns``, ``CLOCK_MONOTONIC_COARSE``);
2. one ``with m.phase("forward"): pass`` pair on a running ``Meter()`` as users write it (the shared sampler
   process), and one pair of an empty context manager of the same shape (the Python alone);
3. the light loop of the in-process benchmark (a TransformerEncoderLayer, batch 1, on CUDA with a synchronize
   per inference where there is a GPU, else on the CPU) in short blocks of ``BENCH_BLOCK`` inferences, one
   block per variant in each round, in a shuffled order: nothing around the inference (twice: ``none`` and
   ``none2``, whose difference is the A/A noise floor); a phase (``with meter.phase("forward")``); the same
   phase object held (``with held:``, without ``meter.phase``'s lookup); the phase as the loop's own (``for _
   in held.each(range(k))``: the body is the phase, the edges in one generator instead of two method calls);
   the floor of recording edges (two clock reads appended to two arrays); two bare ``time.monotonic()`` reads;
   the empty context manager; and, where Zeus is installed and there is a GPU, a Zeus window per inference
   (``begin_window``/``end_window`` with ``sync_execution=False``: Zeus's nearest to a phase, no sync, as
   ours). Each variant's cost per inference is the median over rounds of its block's time per inference minus
   the same round's ``none`` block, with a bootstrap 95% interval; in wall time (what throughput loses), in
   this thread's CPU time (blind to the core being taken away), and over the "calm" rounds in which no block
   was preempted. Short paired blocks are what make the figure hold on a shared host: the first GPU run of
   this benchmark (0.5 s rounds) resolved a phase to ±0.5 µs on a quiet host and to ±15 µs on a busy one.
4. how quiet the host was: hypervisor steal and busy share from /proc/stat, load average, and the share of
   blocks during which this thread was preempted.

``BENCH_SECONDS`` (default 60) of rounds. Prints JSON (also written, with every block, to
``$OUT/phase_cost_bench.json``); figures go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import resource
import sys
import time
import timeit
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from phase_edge_cost import load_reference_meter
from wattsup.meter import Meter, shared_sampler

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
"""How long the rounds of blocks run."""
BLOCK = int(os.environ.get("BENCH_BLOCK", "64"))
"""Inferences per block (~12 ms of the light loop on an H100 host): short, so a block and the no-meter block
beside it see the same host; a burst of other work on a shared host spoils a few blocks, not a comparison."""
ZEUS_BLOCK = 4
"""A Zeus window costs ~7 ms, so its blocks are shorter."""
RUSAGE_THREAD = getattr(resource, "RUSAGE_THREAD", None)


class Empty:
    """A context manager shaped like a phase (an object, two methods) with no clock reads or bookkeeping."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def clock_source() -> str:
    p = Path("/sys/devices/system/clocksource/clocksource0/current_clocksource")
    return p.read_text().strip() if p.exists() else "unknown"


def per_call_ns(stmt: str, setup: str, number: int = 200_000) -> float:
    return min(timeit.repeat(stmt, setup, number=number, repeat=5)) / number * 1e9


def clocks() -> dict[str, float]:
    out = {
        "monotonic": per_call_ns("f()", "import time; f = time.monotonic"),
        "perf_counter": per_call_ns("f()", "import time; f = time.perf_counter"),
        "monotonic_ns": per_call_ns("f()", "import time; f = time.monotonic_ns"),
    }
    if sys.platform == "linux":  # CLOCK_MONOTONIC_COARSE is 6 in <linux/time.h>; Python does not name it
        out["monotonic_coarse"] = per_call_ns("f(6)", "import time; f = time.clock_gettime")
    return out


def pairs() -> dict[str, float]:
    """Best of five loops of 100,000 pairs each, on a meter of their own (its stop() integrates 500,000
    phases in the sampler process, which is why it is not the meter the loops below are timed under)."""
    n = 100_000
    meter = Meter("phase-pairs")
    meter.start()

    def run(make: Callable[[str], Any]) -> float:
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                with make("forward"):
                    pass
            best = min(best, time.perf_counter() - t0)
        return best / n * 1e9

    got = {"phase_pair_ns": run(meter.phase), "empty_pair_ns": run(Empty)}
    meter.stop()
    return got


def workload() -> tuple[str, Callable[[], None]]:
    cuda = torch.cuda.is_available()
    dev = "cuda" if cuda else "cpu"
    layer = torch.nn.TransformerEncoderLayer(512, 8, 2048, batch_first=True).to(dev).eval()
    x = torch.randn(1, 32, 512, device=dev)

    def light() -> None:
        with torch.inference_mode():
            layer(x)
        if cuda:
            torch.cuda.synchronize()

    return (torch.cuda.get_device_name(0) if cuda else "cpu"), light


phases = [0]
REF: list[Any] = [None, None]
"""The reference meter and its held phase, where ``BENCH_REF_METER`` names one."""


def zeus_monitor() -> Any:
    if not torch.cuda.is_available():
        return None
    try:
        from zeus.monitor import ZeusMonitor
    except ImportError:
        return None
    return ZeusMonitor(gpu_indices=[0], sync_execution_with="torch")


def reference_meter() -> tuple[Any, Any]:
    """``BENCH_REF_METER``: another version of ``wattsup/meter/meter.py`` (a file), loaded beside this one and
    started on the same shared sampler, so its phases (variants ``ref_phase``, ``ref_held`` and, where it has
    ``each``, ``ref_each``) are timed in the same rounds as the current ones: a change to the phase edges
    measured against its predecessor."""
    path = os.environ.get("BENCH_REF_METER")
    if not path:
        return None, None
    ref = load_reference_meter(path)
    ref._shared, ref._shared_sources = shared_sampler()  # no second sampler process
    m = ref.Meter("phase-cost-ref")
    m.start()
    return m, m.phase("forward")


def thread_switches() -> int:
    """Involuntary context switches of this thread so far (the OS took the core away), where Linux says."""
    if RUSAGE_THREAD is None:
        return 0
    return int(resource.getrusage(RUSAGE_THREAD).ru_nivcsw)


def block(
    work: Callable[[], None], variant: str, k: int, meter: Meter, held: Any, zeus: Any
) -> tuple[float, float, int]:
    """``k`` inferences of one variant: (wall s per inference, this thread's CPU s per inference, involuntary
    context switches during the block). The loop is a plain ``for`` so every variant pays the same."""
    mono = time.monotonic
    t0, c0, s0 = time.perf_counter(), time.thread_time(), thread_switches()
    if variant in ("none", "none2"):  # none2: the A/A floor, the same loop under another name
        for _ in range(k):
            work()
    elif variant == "phase":  # as users write it: the meter looks the phase up by name each time
        for _ in range(k):
            with meter.phase("forward"):
                work()
        phases[0] += k
    elif variant == "ref_phase":
        for _ in range(k):
            with REF[0].phase("forward"):
                work()
    elif variant == "ref_each":
        for _ in REF[1].each(range(k)):
            work()
    elif variant == "ref_held":
        ref_held = REF[1]
        for _ in range(k):
            with ref_held:
                work()
    elif variant == "held":  # the phase object taken once: the edges without meter.phase()'s lookup
        for _ in range(k):
            with held:
                work()
        phases[0] += k
    elif variant == "each":  # the same phase as the loop's own: the body is the phase, one resume per item
        for _ in held.each(range(k)):
            work()
        phases[0] += k
    elif variant == "stamps":  # the floor of recording edges: two clock reads appended to two arrays
        starts, ends = array("d"), array("d")
        start, end = starts.append, ends.append
        for _ in range(k):
            start(mono())
            work()
            end(mono())
    elif variant == "clocks":
        for _ in range(k):
            mono()
            work()
            mono()
    elif variant == "zeus":
        for _ in range(k):
            zeus.begin_window("forward", sync_execution=False)
            work()
            zeus.end_window("forward", sync_execution=False)
    elif variant == "empty":
        for _ in range(k):
            with Empty("forward"):
                work()
    else:
        raise ValueError(f"unknown variant {variant}")
    t1, c1, s1 = time.perf_counter(), time.thread_time(), thread_switches()
    return (t1 - t0) / k, (c1 - c0) / k, s1 - s0


def boot_ci(xs: Any, n: int = 2000) -> list[float]:
    """95% bootstrap interval of the median."""
    xs = np.asarray(xs, dtype=float)
    rng = np.random.default_rng(0)
    meds = np.median(xs[rng.integers(0, len(xs), size=(n, len(xs)))], axis=1)
    return [float(np.quantile(meds, 0.025)), float(np.quantile(meds, 0.975))]


def cost(v: Any, base: Any) -> dict[str, Any]:
    """A variant's cost per inference from its blocks paired with the same round's no-meter blocks."""
    d = (v - base) * 1e6
    return {
        "cost_us_median": float(np.median(d)),
        "cost_us_ci95": boot_ci(d),
        "slowdown_pct_median": float(100 * np.median(d) / (np.median(base) * 1e6)),
        "slowdown_pct_ci95": [100 * x / (np.median(base) * 1e6) for x in boot_ci(d)],
    }


def host_counters() -> dict[str, float]:
    """The host's CPU time stolen by its hypervisor, its busy share and load (Linux): how quiet it was."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(x) for x in fields]
        out["cpu_ticks_total"] = float(sum(ticks[:8]))
        out["cpu_ticks_steal"] = float(ticks[7]) if len(ticks) > 7 else 0.0
        out["cpu_ticks_idle"] = float(ticks[3] + ticks[4])
    with contextlib.suppress(OSError):
        out["loadavg_1m"] = os.getloadavg()[0]
    return out


def main() -> None:
    device, work = workload()
    res: dict[str, Any] = {
        "device": device,
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "clock_source": clock_source(),
        "clock_read_ns": clocks(),
        "seconds": SECONDS,
        "block": BLOCK,
    }
    res.update(pairs())
    sampler, _ = shared_sampler()
    cpu_time = getattr(sampler, "cpu_time_s", None)
    cpu0, t0 = (cpu_time() if cpu_time else None), time.monotonic()
    host0 = host_counters()
    meter = Meter("phase-cost")
    meter.start()
    held = meter.phase("forward")
    zeus = zeus_monitor()
    ref_meter, ref_held = reference_meter()
    REF[:] = [ref_meter, ref_held]
    variants = [
        "none",
        "none2",
        "phase",
        "held",
        "each",
        "stamps",
        "clocks",
        "empty",
        *(["zeus"] if zeus is not None else []),
        *(["ref_phase", "ref_held"] if ref_meter is not None else []),
        *(["ref_each"] if ref_meter is not None and hasattr(ref_held, "each") else []),
    ]
    sizes = {v: (ZEUS_BLOCK if v == "zeus" else BLOCK) for v in variants}
    for v in variants:  # warm every path up (first use of a phase takes the full path)
        block(work, v, sizes[v], meter, held, zeus)
    wall: dict[str, list[float]] = {v: [] for v in variants}
    cpu: dict[str, list[float]] = {v: [] for v in variants}
    switches: dict[str, list[int]] = {v: [] for v in variants}
    orders: list[list[str]] = []
    rng = random.Random(0)
    deadline = time.perf_counter() + SECONDS
    while time.perf_counter() < deadline:
        # shuffled, not rotated: in a rotation each variant always follows the same one, and a block runs
        # differently after some (after a Zeus block, a no-meter block ran 1.9 µs per inference slower
        # than after another no-meter block, run 2 of the eighth session), which biases every comparison
        order = rng.sample(variants, len(variants))
        for v in order:
            w, c, sw = block(work, v, sizes[v], meter, held, zeus)
            wall[v].append(w)
            cpu[v].append(c)
            switches[v].append(sw)
        orders.append(order)
    rounds = len(orders)
    t_stop = time.monotonic()
    cpu_stop = cpu_time() if cpu_time else None
    m = meter.stop()
    if ref_meter is not None:
        ref_meter.stop()
    res["stop_s"] = time.monotonic() - t_stop
    res["phases_integrated"] = phases[0]
    res["phase_energy_j"] = sum(p.energy_j for p in m.phases)
    cpu1, t1 = (cpu_time() if cpu_time else None), time.monotonic()
    host1 = host_counters()
    res["rounds"] = rounds
    if "cpu_ticks_total" in host0 and "cpu_ticks_total" in host1:
        total = host1["cpu_ticks_total"] - host0["cpu_ticks_total"]
        res["host_steal_pct"] = 100 * (host1["cpu_ticks_steal"] - host0["cpu_ticks_steal"]) / max(total, 1)
        res["host_busy_pct"] = 100 * (1 - (host1["cpu_ticks_idle"] - host0["cpu_ticks_idle"]) / max(total, 1))
    res["loadavg_1m"] = host1.get("loadavg_1m")
    W = {v: np.asarray(x) for v, x in wall.items()}
    C = {v: np.asarray(x) for v, x in cpu.items()}
    S = {v: np.asarray(x) for v, x in switches.items()}
    res["us_per_inference_median"] = float(np.median(W["none"]) * 1e6)
    res["us_per_inference_p10_p90"] = [float(np.quantile(W["none"], q) * 1e6) for q in (0.1, 0.9)]
    res["cpu_us_per_inference_median"] = float(np.median(C["none"]) * 1e6)
    res["blocks_with_involuntary_switches_pct"] = float(100 * np.mean(np.concatenate(list(S.values())) > 0))
    # rounds where no block lost its core: the undisturbed comparison
    calm = np.all(np.stack([S[v] == 0 for v in variants]), axis=0)
    res["calm_rounds"] = int(calm.sum())
    for v in variants[1:]:
        res[v] = {"wall": cost(W[v], W["none"]), "thread_cpu": cost(C[v], C["none"])}
        if calm.sum() >= 30:
            res[v]["wall_calm_rounds"] = cost(W[v][calm], W["none"][calm])
    if cpu0 is not None and cpu1 is not None and cpu_stop is not None:
        # the sampler's CPU over the whole part, and split: reading the sensors while the loops ran, and
        # working out the window's phases at stop() (the latter grows with the number of phases)
        res["sampler_cpu_share_of_a_core"] = (cpu1 - cpu0) / (t1 - t0)
        res["sampler_cpu_share_while_sampling"] = (cpu_stop - cpu0) / (t_stop - t0)
        res["sampler_cpu_s_at_stop"] = cpu1 - cpu_stop
        res["sampler_cpu_us_per_phase_at_stop"] = (cpu1 - cpu_stop) / max(phases[0], 1) * 1e6
    text = json.dumps(res, indent=1)
    print(text, flush=True)
    out = os.environ.get("OUT")
    if out:
        raw = {"wall_s": wall, "thread_cpu_s": cpu, "involuntary_switches": switches, "sizes": sizes}
        raw["orders"] = orders
        Path(out, "phase_cost_bench.json").write_text(json.dumps({**res, "blocks": raw}))


if __name__ == "__main__":
    main()
