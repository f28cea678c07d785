"""Overhead of metering a Python-bound GPU inference loop (issue 2), on one NVIDIA GPU.

The loop: a small transformer encoder layer, batch 1, synchronised every iteration (launch-bound, so
any CPU or GIL cost of a meter shows up). The loop runs without pause for the whole benchmark: each
segment is [switch the variant on] [settle: untimed iterations] [timed iterations] [switch it off], so
the GPU never idles long enough to change clocks between timed parts, and switching costs (thread
start, CodeCarbon's hardware probe, the meter's wait for the counter to tick past the window's end)
stay out of the timing. Variants, in rotating order over many rounds:

* ``none`` and ``none2``: no meter (``none2`` against ``none`` is an A/A comparison: the noise floor);
* ``window``: a wattsup Meter (its own sampler thread, timeline on) open around the segment;
* ``phases``: the same, plus a ``forward`` phase around every inference;
* ``codecarbon``: CodeCarbon's EmissionsTracker at measure_power_secs=1 running around the segment.

Every iteration is timed. Reports, per variant, the median over rounds of its slowdown against ``none``
of the same round with a bootstrap 95% interval, from the plain iteration rate and from the rate with
stalls left out (iterations longer than the segment's median + 2 ms: host preemption on a shared VM,
which swings adjacent segments by tens of percent; a poll of the sampler holds the interpreter for far
less), with the share of stalled iterations per variant (a meter that caused stalls would show
there), and the CPU time the wattsup sampler thread used per second of window (an upper bound on
the time it can hold the interpreter lock: NVML calls release it). Writes $OUT/gpu_overhead_bench.json.

Usage: python benchmarks/gpu_overhead_bench.py   (BENCH_ROUNDS, default 40; BENCH_SEGMENT_S,
default 0.4; BENCH_DEADLINE_S: start no new round after this many seconds, once 10 are done)
"""

from __future__ import annotations

import json
import logging
import os
import random
import statistics
import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import torch

from wattsup.meter import Meter, discover

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "40"))
SEG_S = float(os.environ.get("BENCH_SEGMENT_S", "0.4"))
SETTLE_S = 0.15
STALL_S = 0.002
DEADLINE_S = float(os.environ.get("BENCH_DEADLINE_S", "inf"))
TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu_s(native_id: int) -> float:
    """User + system CPU seconds of one thread of this process (from /proc)."""
    with open(f"/proc/self/task/{native_id}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wattsup-sampler"]


def main() -> None:
    from codecarbon import EmissionsTracker

    layer = torch.nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True).cuda().eval()
    x = torch.randn(1, 16, 256, device="cuda")
    meter: dict[str, Meter | None] = {"m": None}
    phases = {"on": False}

    def step() -> None:
        m = meter["m"]
        if phases["on"] and m is not None:
            with m.phase("forward"):
                layer(x)
        else:
            layer(x)
            torch.cuda.synchronize()

    def spin(seconds: float) -> list[float]:
        """Run the loop for ``seconds``; the duration of every iteration."""
        times: list[float] = []
        clock = time.perf_counter
        t0 = last = clock()
        while last - t0 < seconds:
            step()
            now = clock()
            times.append(now - last)
            last = now
        return times

    def segment() -> dict[str, float]:
        """Iterations per second over the timed part: plain, and with stalls (iterations longer than
        the segment's median + 2 ms: host preemption, far longer than any poll of the sampler holds
        the interpreter) left out; and the share of iterations that stalled."""
        spin(SETTLE_S)
        times = spin(SEG_S)
        cut = statistics.median(times) + STALL_S
        kept = [t for t in times if t <= cut]
        return {
            "rate": len(times) / sum(times),
            "trimmed": len(kept) / sum(kept),
            "stalled": 1 - len(kept) / len(times),
        }

    sampler_cpu: list[tuple[float, float]] = []  # (thread CPU s, window s) per window segment

    def with_meter(use_phases: bool) -> dict[str, float]:
        m = Meter("overhead", sources=discover().tracks, sync="auto", timeline=True)
        m.start()
        meter["m"], phases["on"] = m, use_phases
        th = sampler_threads()[-1]
        assert th.native_id is not None
        c0, t0 = thread_cpu_s(th.native_id), time.perf_counter()
        try:
            rate = segment()
            if not use_phases:
                sampler_cpu.append((thread_cpu_s(th.native_id) - c0, time.perf_counter() - t0))
        finally:
            meter["m"], phases["on"] = None, False
            m.stop()
        return rate

    def with_codecarbon() -> dict[str, float]:
        tr = EmissionsTracker(measure_power_secs=1, save_to_file=False, log_level="error")
        tr.start()
        try:
            return segment()
        finally:
            tr.stop()

    runs: dict[str, Callable[[], dict[str, float]]] = {
        "none": segment,
        "none2": segment,
        "window": lambda: with_meter(False),
        "phases": lambda: with_meter(True),
        "codecarbon": with_codecarbon,
    }
    variants = list(runs)
    with torch.inference_mode():
        spin(2.0)  # warm-up: kernels, clocks
        rows = []
        stop_at = time.monotonic() + DEADLINE_S
        for i in range(ROUNDS):
            if time.monotonic() > stop_at and i >= 10:
                print(f"deadline: {i} rounds", flush=True)
                break
            k = i % len(variants)
            order = variants[k:] + variants[:k]
            rows.append({v: runs[v]() for v in order})
            if i % 10 == 9:
                print(f"round {i + 1}/{ROUNDS}", flush=True)
    rng = random.Random(0)
    out: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "rounds": len(rows),
        "segment_s": SEG_S,
        "settle_s": SETTLE_S,
        "stall_threshold": f"median iteration + {STALL_S * 1e3:g} ms",
        "loop_it_per_s_median": statistics.median(r["none"]["rate"] for r in rows),
        "rows": rows,
    }
    for v in variants[1:]:
        out[v] = {
            "stalled_iterations_pct_median": round(100 * statistics.median(r[v]["stalled"] for r in rows), 3)
        }
        for stat in ("rate", "trimmed"):
            slow = [1 - r[v][stat] / r["none"][stat] for r in rows]
            boots = sorted(statistics.median(rng.choices(slow, k=len(slow))) for _ in range(4000))
            out[v][stat] = {
                "median_slowdown_pct": round(100 * statistics.median(slow), 3),
                "ci95_pct": [round(100 * boots[100], 3), round(100 * boots[3899], 3)],
                "range_pct": [round(100 * min(slow), 3), round(100 * max(slow), 3)],
            }
        print(v, out[v], flush=True)
    out["none"] = {
        "stalled_iterations_pct_median": round(100 * statistics.median(r["none"]["stalled"] for r in rows), 3)
    }
    cpu = sum(c for c, _ in sampler_cpu)
    wall = sum(w for _, w in sampler_cpu)
    out["sampler_thread_cpu_ms_per_s"] = round(1e3 * cpu / wall, 3) if wall else None
    print("none it/s median", out["loop_it_per_s_median"])
    print("sampler thread CPU ms per s of window", out["sampler_thread_cpu_ms_per_s"])
    with open(os.path.join(os.environ.get("OUT", "."), "gpu_overhead_bench.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
