"""What a phase per inference costs, taken apart (issue 13), on whatever machine runs it.

The in-process GPU benchmark (``gpu_inprocess_bench.py``, overhead part) measured 2.3% throughput lost to a
phase around every inference of a Python-bound loop on an H100 host: 4.2 µs per phase there, against
0.7 µs for the same ``with m.phase(...)`` on the 2-core development VM. This benchmark says where those
microseconds go on the machine it runs on:

1. the host's clock source and the cost of one read of each Python clock (``time.monotonic``,
   ``time.perf_counter``, ``time.monotonic_ns``, ``CLOCK_MONOTONIC_COARSE``);
2. one ``with m.phase("forward"): pass`` pair on a running ``Meter()`` as users write it (the shared sampler
   process), and one pair of an empty context manager of the same shape (the Python alone);
3. the light loop of the in-process benchmark (a TransformerEncoderLayer, batch 1, on CUDA with a
   synchronize per inference where there is a GPU, else on the CPU), timed as that benchmark times it, in
   rounds that rotate the variants: nothing around the inference; a phase (``with meter.phase("forward")``);
   the same phase object held (``with held:``, without ``meter.phase``'s lookup); the floor of recording
   edges (two clock reads appended to two arrays); two bare ``time.monotonic()`` reads; the empty context
   manager; and, where Zeus is installed and there is a GPU, a Zeus window per
   inference (``begin_window``/``end_window`` with ``sync_execution=False``: Zeus's nearest to a phase, no
   sync, as ours). Each variant's cost per inference is its mean time per inference
   minus the round's no-meter time, with a bootstrap 95% interval over rounds.

``BENCH_ROUNDS`` (default 30) rounds of ``BENCH_ROUND_S`` (default 0.5) seconds per variant.
Prints JSON (also written to ``$OUT/phase_cost_bench.json``); figures go to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import time
import timeit
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from wattsup.meter import Meter, shared_sampler

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
ROUND_S = float(os.environ.get("BENCH_ROUND_S", "0.5"))


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


def zeus_monitor() -> Any:
    if not torch.cuda.is_available():
        return None
    try:
        from zeus.monitor import ZeusMonitor
    except ImportError:
        return None
    return ZeusMonitor(gpu_indices=[0], sync_execution_with="torch")


def loop(work: Callable[[], None], variant: str, meter: Meter, zeus: Any = None) -> float:
    """Seconds per inference over ``ROUND_S``, the loop written as gpu_inprocess_bench.py's."""
    n = 0
    mono = time.monotonic
    t = time.perf_counter()
    if variant == "none":
        while time.perf_counter() - t < ROUND_S:
            work()
            n += 1
    elif variant == "phase":
        while time.perf_counter() - t < ROUND_S:
            with meter.phase("forward"):
                work()
            n += 1
        phases[0] += n
    elif variant == "held":  # the phase object taken once: the edges without meter.phase()'s lookup
        held = meter.phase("forward")
        while time.perf_counter() - t < ROUND_S:
            with held:
                work()
            n += 1
        phases[0] += n
    elif variant == "stamps":  # the floor of recording edges: two clock reads appended to two arrays
        starts, ends = array("d"), array("d")
        start, end = starts.append, ends.append
        while time.perf_counter() - t < ROUND_S:
            start(mono())
            work()
            end(mono())
            n += 1
    elif variant == "clocks":
        while time.perf_counter() - t < ROUND_S:
            mono()
            work()
            mono()
            n += 1
    elif variant == "zeus":
        while time.perf_counter() - t < ROUND_S:
            zeus.begin_window("forward", sync_execution=False)
            work()
            zeus.end_window("forward", sync_execution=False)
            n += 1
    else:
        while time.perf_counter() - t < ROUND_S:
            with Empty("forward"):
                work()
            n += 1
    return (time.perf_counter() - t) / n


def boot_ci(xs: list[float], n: int = 2000) -> list[float]:
    rng = random.Random(0)
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(n))
    return [meds[int(0.025 * n)], meds[int(0.975 * n)]]


def main() -> None:
    device, work = workload()
    res: dict[str, Any] = {
        "device": device,
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "clock_source": clock_source(),
        "clock_read_ns": clocks(),
        "rounds": ROUNDS,
        "round_s": ROUND_S,
    }
    res.update(pairs())
    sampler, _ = shared_sampler()
    cpu_time = getattr(sampler, "cpu_time_s", None)
    cpu0, t0 = (cpu_time() if cpu_time else None), time.monotonic()
    meter = Meter("phase-cost")
    meter.start()
    for _ in range(int(1.0 / ROUND_S) + 1):  # warm the workload up
        loop(work, "none", meter)
    zeus = zeus_monitor()
    variants = ["none", "phase", "held", "stamps", "clocks", "empty", *(["zeus"] if zeus is not None else [])]
    per: dict[str, list[float]] = {v: [] for v in variants}
    for i in range(ROUNDS):
        k = i % len(variants)
        got = {v: loop(work, v, meter, zeus) for v in variants[k:] + variants[:k]}
        for v in variants:
            per[v].append(got[v])
    t_stop = time.monotonic()
    cpu_stop = cpu_time() if cpu_time else None
    m = meter.stop()
    res["stop_s"] = time.monotonic() - t_stop
    res["phases_integrated"] = phases[0]
    res["phase_energy_j"] = sum(p.energy_j for p in m.phases)
    cpu1, t1 = (cpu_time() if cpu_time else None), time.monotonic()
    base = per["none"]
    res["us_per_inference_median"] = statistics.median(base) * 1e6
    for v in variants[1:]:
        d = [(a - b) * 1e6 for a, b in zip(per[v], base, strict=True)]
        res[f"{v}_cost_us_median"] = statistics.median(d)
        res[f"{v}_cost_us_ci95"] = boot_ci(d)
        res[f"{v}_slowdown_pct_median"] = 100 * statistics.median(
            (a - b) / b for a, b in zip(per[v], base, strict=True)
        )
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
        Path(out, "phase_cost_bench.json").write_text(text)


if __name__ == "__main__":
    main()
