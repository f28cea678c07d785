"""The meter where users measure: the workload in the measuring process (issue 13), on one NVIDIA GPU.

1. Accuracy. A workload runs without pause in this process, in the main thread: ``heavy`` (bf16 8192²
   matmuls, near the power limit) and ``light`` (a Python-bound batch-1 transformer layer, synchronised
   every inference). While it runs, windows of 0.1, 0.3, 1 and 3 s (``BENCH_REPS`` each, shuffled) are
   taken between two inferences by wattsup (``Meter()`` as a user writes it: the shared sampler, a phase per
   window inside one open window), Zeus (``begin_window``/``end_window``), CodeCarbon (task mode,
   ``measure_power_secs=1``) and two raw counter reads, all in the same windows.
   Oracle, not from wattsup: this script brackets NVML counter steps itself (reads until the value moves)
   around 10 s of the workload alone before the windows and 10 s after them (no tool's bookkeeping
   inside): P = mean of the two ΔE/Δt (their difference is reported); a window of duration d holds P × d.
   Error and coverage of wattsup's own bound per window length.
2. Overhead. Iterations/s of the light loop with no meter, with a wattsup window open and a phase per
   inference (the default: timestamps only), again with no meter (A/A noise floor), and with CodeCarbon,
   in interleaved rounds of 1.5 s; medians and bootstrap 95% intervals of the slowdown.
3. Sampler cost: CPU seconds per second of the sampler process over the whole run (from /proc).

Writes $OUT/gpu_inprocess_bench.json and prints a summary. Needs codecarbon and zeus (carry wheels).
"""

from __future__ import annotations

import json
import logging
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable

import torch

from wattsup.meter import Meter, shared_sampler
from wattsup.meter.process import ProcessSampler

DURATIONS = [0.1, 0.3, 1.0, 3.0]
REPS = int(os.environ.get("BENCH_REPS", "12"))
ORACLE_S = 10.0
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "12"))
warnings.simplefilter("ignore")
logging.disable(logging.WARNING)


def pct(x: float) -> float:
    return round(100 * x, 3)


def boot_ci(xs: list[float], n: int = 2000) -> list[float]:
    rng = random.Random(0)
    meds = sorted(statistics.median(rng.choices(xs, k=len(xs))) for _ in range(n))
    return [pct(meds[int(0.025 * n)]), pct(meds[int(0.975 * n)])]


class Oracle:
    """The NVML counter read by this script alone, each read bracketed to a counter step."""

    def __init__(self) -> None:
        import pynvml

        pynvml.nvmlInit()
        self.nv = pynvml
        self.h = pynvml.nvmlDeviceGetHandleByIndex(0)

    def read(self) -> int:
        return int(self.nv.nvmlDeviceGetTotalEnergyConsumption(self.h))

    def step(self, work: Callable[[], None]) -> tuple[float, float]:
        """(time of a counter step, mJ at it), the workload running meanwhile."""
        e0 = self.read()
        t_prev = time.monotonic()
        while True:
            work()
            t0 = time.monotonic()
            e = self.read()
            t1 = time.monotonic()
            if e != e0:
                return (t_prev + t1) / 2, float(e)
            t_prev = t0


def workloads() -> dict[str, Callable[[], None]]:
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)

    def heavy() -> None:
        for _ in range(4):
            a @ b
        torch.cuda.synchronize()

    layer = torch.nn.TransformerEncoderLayer(512, 8, 2048, batch_first=True).cuda().eval()
    x = torch.randn(1, 32, 512, device="cuda")

    def light() -> None:
        with torch.inference_mode():
            layer(x)
        torch.cuda.synchronize()

    return {"heavy": heavy, "light": light}


def run_until(work: Callable[[], None], t_end: float) -> None:
    while time.monotonic() < t_end:
        work()


def accuracy(name: str, work: Callable[[], None], oracle: Oracle) -> dict[str, object]:
    from codecarbon import EmissionsTracker
    from zeus.monitor import ZeusMonitor

    zeus = ZeusMonitor(gpu_indices=[0], sync_execution_with="torch")
    cc = EmissionsTracker(
        measure_power_secs=1, save_to_file=False, log_level="error", gpu_ids=[0], tracking_mode="process"
    )
    run_until(work, time.monotonic() + 5.0)  # to a steady power

    def steady_power() -> float:
        t_a, e_a = oracle.step(work)
        run_until(work, t_a + ORACLE_S)
        t_b, e_b = oracle.step(work)
        return (e_b - e_a) / 1e3 / (t_b - t_a)

    p_pre = steady_power()
    order = [d for _ in range(REPS) for d in DURATIONS]
    random.Random(1).shuffle(order)
    meter = Meter(f"{name}-steady")
    meter.start()
    wins = []
    for k, d in enumerate(order):
        wn = f"w{k}"
        cc.start_task(wn)
        zeus.begin_window(wn)
        n0 = oracle.read()
        r0 = time.monotonic()
        with meter.phase(wn):
            run_until(work, time.monotonic() + d)
        r1 = time.monotonic()
        n1 = oracle.read()
        zm = zeus.end_window(wn)
        ccd = cc.stop_task()
        wins.append(
            {
                "d": d,
                "name": wn,
                "naive": ((n1 - n0) / 1e3, r1 - r0),
                "zeus": (zm.gpu_energy[0], zm.time),
                "codecarbon": (ccd.gpu_energy * 3.6e6, ccd.duration),
            }
        )
        run_until(work, time.monotonic() + 0.05)
    m = meter.stop()
    cc.stop()
    p_post = steady_power()
    p = (p_pre + p_post) / 2
    out: dict[str, object] = {"oracle_power_w": p, "oracle_pre_post_w": [p_pre, p_post]}
    rows = []
    for d in DURATIONS:
        errs: dict[str, list[float]] = {t: [] for t in ("wattsup", "naive", "zeus", "codecarbon")}
        inside = []
        for w in (w for w in wins if w["d"] == d):
            ph = m.phase(str(w["name"]))
            comp = ph.component("gpu:0")
            truth = p * ph.duration_s
            errs["wattsup"].append(comp.energy_j / truth - 1)
            inside.append(abs(comp.energy_j - truth) <= comp.error_bound_j)
            for tool in ("naive", "zeus", "codecarbon"):
                e, dur = w[tool]  # type: ignore[misc]
                errs[tool].append(e / (p * dur) - 1 if dur > 0 else -1.0)
        cell: dict[str, object] = {
            "d": d,
            "n": len(inside),
            "wattsup_bound_coverage": sum(inside) / len(inside),
        }
        for tool, xs in errs.items():
            a = [abs(x) for x in xs]
            cell[tool] = {
                "median_abs_pct": pct(statistics.median(a)),
                "range_pct": [pct(min(xs)), pct(max(xs))],
                "zeros": sum(1 for x in xs if x <= -0.999),
            }
        rows.append(cell)
        print(name, json.dumps(cell), flush=True)
    out["windows"] = rows
    out["gpu_detail"] = m.component("gpu:0").detail
    out["warnings"] = m.warnings[:10]
    return out


def overhead(work: Callable[[], None]) -> dict[str, object]:
    from codecarbon import EmissionsTracker

    def loop(seconds: float, meter: Meter | None) -> float:
        n = 0
        t = time.perf_counter()
        while time.perf_counter() - t < seconds:
            if meter is None:
                work()
            else:
                with meter.phase("forward"):
                    work()
            n += 1
        return n / (time.perf_counter() - t)

    loop(3.0, None)
    variants = ["none", "wattsup", "none2", "codecarbon"]
    rows = []
    for i in range(ROUNDS):
        r: dict[str, float] = {}
        for v in variants[i % 4 :] + variants[: i % 4]:
            if v in ("none", "none2"):
                r[v] = loop(1.5, None)
            elif v == "wattsup":
                mt = Meter("overhead")
                mt.start()
                r[v] = loop(1.5, mt)
                mt.stop()
            else:
                tr = EmissionsTracker(
                    measure_power_secs=1, save_to_file=False, log_level="error", tracking_mode="process"
                )
                tr.start()
                r[v] = loop(1.5, None)
                tr.stop()
        rows.append(r)
        print("overhead", json.dumps({k: round(v) for k, v in r.items()}), flush=True)
    out: dict[str, object] = {"rounds": rows}
    for v in ("wattsup", "none2", "codecarbon"):
        xs = [1 - r[v] / r["none"] for r in rows]
        out[f"{v}_slowdown_median_pct"] = pct(statistics.median(xs))
        out[f"{v}_slowdown_ci95_pct"] = boot_ci(xs)
    return out


def main() -> None:
    out_dir = os.environ.get("OUT", ".")
    import pynvml

    oracle = Oracle()
    res: dict[str, object] = {
        "device": torch.cuda.get_device_name(0),
        "driver": pynvml.nvmlSystemGetDriverVersion(),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "reps_per_length": REPS,
    }
    sampler, _ = shared_sampler()
    assert isinstance(sampler, ProcessSampler), "the default meter should sample from its own process"
    cpu0, t0 = sampler.cpu_time_s(), time.monotonic()
    works = workloads()
    for name, work in works.items():
        res[name] = accuracy(name, work, oracle)
    res["overhead"] = overhead(works["light"])
    cpu1, t1 = sampler.cpu_time_s(), time.monotonic()
    if cpu0 is not None and cpu1 is not None:
        res["sampler_cpu_share_of_a_core"] = (cpu1 - cpu0) / (t1 - t0)
    print(json.dumps({k: v for k, v in res.items() if k not in ("heavy", "light")}, default=str), flush=True)
    with open(os.path.join(out_dir, "gpu_inprocess_bench.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)


if __name__ == "__main__":
    main()
