"""GPU benchmarks of the meter (issue 2), one run on one NVIDIA GPU through the device tool.

1. Steady-state accuracy: a bf16 matmul loop in another process keeps the GPU at a steady power. The
   oracle for a window of duration d is P × d, with P the NVML counter's mean power over the 15 s
   around the window. Windows of 0.1, 0.3, 1, 3 and 10 s, each measured at once (nested) by wattsup
   (the Meter, phases), two raw counter reads (the naive method), Zeus (plain and
   approx_instant_energy) and CodeCarbon task mode at measure_power_secs=1. Each tool is judged
   against its own reported duration.
2. Bursty accuracy: cycles of busy (matmuls) and idle halves, cycle lengths 0.25–4 s, repeated; the
   counter over all cycles (edges in idle, idle padding subtracted) over their number is each cycle's
   energy; each cycle measured as a wattsup window. Error and bound coverage by cycle length.
3. Overhead: iterations/s of a Python-bound GPU loop (small transformer layer, batch 1, sync per
   iteration) without a meter, with the wattsup meter (timeline on, a phase per inference) and with
   CodeCarbon (1 s), in interleaved triples.

Writes JSON to $OUT/gpu_meter_bench.json (or ./gpu_meter_bench.json) and prints a summary.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import warnings

import torch

# this benchmark reads the sampler's tracks (its oracle and alignment check): in a thread of this process,
# which is fair here because the load runs in another process (gpu_inprocess_bench.py measures the
# default, the sampler process, with the load in the measuring process)
os.environ.setdefault("WATTSUP_SAMPLER", "thread")

from wattsup.meter import Meter, shared_sampler
from wattsup.meter.guard import GuardedTrack
from wattsup.meter.sampler import Sampler
from wattsup.meter.timeline import CounterTrack

DURATIONS = [0.1, 0.3, 1.0, 3.0, 10.0]
REPS = int(os.environ.get("BENCH_REPS", "8"))
warnings.simplefilter("ignore")
logging.disable(logging.WARNING)

LOAD = (
    "import torch,time,sys\n"
    "a=torch.randn(8192,8192,device='cuda',dtype=torch.bfloat16)\n"
    "b=torch.randn(8192,8192,device='cuda',dtype=torch.bfloat16)\n"
    "t=time.time()\n"
    "while time.time()-t<float(sys.argv[1]):\n"
    "    for _ in range(10): a@b\n"
    "    torch.cuda.synchronize()\n"
)


def pct(x: float) -> float:
    return round(100 * x, 3)


def summary(errs: list[float]) -> dict[str, float]:
    a = [abs(e) for e in errs]
    return {
        "n": len(errs),
        "median_abs_pct": pct(statistics.median(a)),
        "max_abs_pct": pct(max(a)),
        "min_pct": pct(min(errs)),
        "max_pct": pct(max(errs)),
        "zeros": sum(1 for e in errs if e <= -0.999),
    }


def counter_power(tr: CounterTrack, a: float, b: float) -> float:
    m, e = tr.tick_m, tr.tick_e
    i0 = next(i for i, t in enumerate(m) if t >= a)
    i1 = max(i for i, t in enumerate(m) if t <= b)
    return (e[i1] - e[i0]) / (m[i1] - m[i0])


def main() -> None:
    out_dir = os.environ.get("OUT", ".")
    res: dict[str, object] = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    import pynvml

    pynvml.nvmlInit()
    h = pynvml.nvmlDeviceGetHandleByIndex(0)
    res["driver"] = pynvml.nvmlSystemGetDriverVersion()
    t0 = time.perf_counter()
    for _ in range(200):
        with contextlib.suppress(pynvml.NVMLError):
            pynvml.nvmlDeviceGetSamples(h, pynvml.NVML_TOTAL_POWER_SAMPLES, int(time.time() * 1e6) - 200_000)
    res["samples_read_ms"] = (time.perf_counter() - t0) / 200 * 1e3

    sampler, _sources = shared_sampler()
    assert isinstance(sampler, Sampler)
    guarded = next(t for t in sampler.tracks if t.name == "gpu:0")
    gpu = guarded.primary if isinstance(guarded, GuardedTrack) else guarded
    assert isinstance(gpu, CounterTrack)
    res["gpu_track"] = gpu.detail
    torch.cuda.init()
    torch.zeros(1, device="cuda")

    # ---------------------------------------------------- clock alignment check
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    torch.cuda.synchronize()
    time.sleep(2.0)
    t_go = time.monotonic()
    while time.monotonic() - t_go < 1.0:
        a @ b
        torch.cuda.synchronize()
    time.sleep(1.0)
    sampler.poke()
    time.sleep(0.3)
    with gpu.lock:
        idle = statistics.median(
            p for t, p in zip(gpu.s_t, gpu.s_p, strict=True) if t_go - 1.5 < t < t_go - 0.2
        )
        busy = statistics.median(
            p for t, p in zip(gpu.s_t, gpu.s_p, strict=True) if t_go + 0.3 < t < t_go + 0.9
        )
        first = next(
            t for t, p in zip(gpu.s_t, gpu.s_p, strict=True) if t > t_go - 0.5 and p > (idle + busy) / 2
        )
    res["align"] = {
        "idle_w": idle,
        "busy_w": busy,
        "first_half_power_sample_after_start_ms": (first - t_go) * 1e3,
    }
    print("align", res["align"], flush=True)

    # -------------------------------------------------------------- steady
    from codecarbon import EmissionsTracker
    from zeus.monitor import ZeusMonitor

    zeus = ZeusMonitor(gpu_indices=[0])
    zeus_ap = ZeusMonitor(gpu_indices=[0], approx_instant_energy=True)
    cc = EmissionsTracker(
        measure_power_secs=1, save_to_file=False, log_level="error", gpu_ids=[0], tracking_mode="machine"
    )
    total = REPS * sum(DURATIONS) + 40
    load = subprocess.Popen([sys.executable, "-c", LOAD, str(total)])
    time.sleep(10)
    wins = []
    meter = Meter("steady", sync=None)
    meter.start()
    order = [d for _ in range(REPS) for d in DURATIONS]
    for k, d in enumerate(order):
        name = f"w{k}"
        cc.start_task(name)
        zeus.begin_window(name)
        zeus_ap.begin_window(name)
        r0a = time.monotonic()
        e0 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
        r0b = time.monotonic()
        with meter.phase(name):
            time.sleep(d)
        r1a = time.monotonic()
        e1 = pynvml.nvmlDeviceGetTotalEnergyConsumption(h)
        r1b = time.monotonic()
        zm = zeus_ap.end_window(name)
        zm0 = zeus.end_window(name)
        ccd = cc.stop_task()
        wins.append(
            {
                "d": d,
                "name": name,
                "naive": ((e1 - e0) / 1e3, (r1a + r1b) / 2 - (r0a + r0b) / 2),
                "zeus": (zm0.gpu_energy[0], zm0.time),
                "zeus_approx": (zm.gpu_energy[0], zm.time),
                "codecarbon": (ccd.gpu_energy * 3.6e6, ccd.duration),
            }
        )
        time.sleep(0.05)
    m = meter.stop()
    time.sleep(8)
    load.wait()
    steady: dict[str, dict[str, object]] = {}
    cover = {}
    raw_windows: list[dict[str, float | str]] = []
    for d in DURATIONS:
        errs: dict[str, list[float]] = {
            t: [] for t in ("wattsup", "wattsup_counter_only", "naive", "zeus", "zeus_approx", "codecarbon")
        }
        inside = []
        for w in (w for w in wins if w["d"] == d):
            ph = m.phase(w["name"])
            a0, b0 = ph.start_s, ph.start_s + ph.duration_s
            c = (a0 + b0) / 2
            p = counter_power(gpu, c - 7.5, c + 7.5)
            comp = ph.component("gpu:0")
            truth = p * ph.duration_s
            errs["wattsup"].append(comp.energy_j / truth - 1)
            inside.append(abs(comp.energy_j - truth) <= comp.error_bound_j)
            raw_windows.append(
                {
                    "kind": "steady",
                    "d": d,
                    "a": a0,
                    "b": b0,
                    "truth_j": truth,
                    "est_j": comp.energy_j,
                    "bound_j": comp.error_bound_j,
                }
            )
            with gpu.lock:
                co = gpu._interpolated(a0, b0)
            errs["wattsup_counter_only"].append(co.energy_j / truth - 1)
            for tool in ("naive", "zeus", "zeus_approx", "codecarbon"):
                e, dur = w[tool]
                errs[tool].append(e / (p * dur) - 1 if dur > 0 else -1.0)
        steady[str(d)] = {t: summary(v) for t, v in errs.items()}
        cover[str(d)] = sum(inside) / len(inside)
        steady[str(d)]["wattsup_bound_coverage"] = cover[str(d)]  # type: ignore[assignment]
        print(
            "steady",
            d,
            {
                t: (s["median_abs_pct"], s["max_abs_pct"], s["zeros"])
                for t, s in steady[str(d)].items()
                if isinstance(s, dict)
            },
            "coverage",
            cover[str(d)],
            flush=True,
        )
    res["steady"] = steady
    res["steady_power_w"] = counter_power(gpu, m.start_s, m.start_s + m.duration_s)

    # -------------------------------------------------------------- bursty
    bursty = {}
    for L in (0.25, 0.5, 1.0, 2.0, 4.0):
        n = max(8, int(12 / L + 0.5))
        time.sleep(1.5)
        meter = Meter("bursty", sync=torch.cuda.synchronize)
        meter.start()
        t_first = None
        for k in range(n):
            with meter.phase(f"c{k}"):
                ts = time.monotonic()
                t_first = t_first or ts
                while time.monotonic() - ts < L / 2:
                    a @ b
                    torch.cuda.synchronize()
                time.sleep(max(0.0, L - (time.monotonic() - ts)))
        mb = meter.stop()
        t_last = mb.start_s + mb.duration_s
        time.sleep(1.5)
        sampler.poke()
        time.sleep(0.3)
        with gpu.lock:
            p_idle = counter_power(gpu, t_first - 1.4, t_first - 0.35)
            ref_block = gpu._interpolated(t_first - 0.3, t_last + 0.3).energy_j - p_idle * 0.6
            # block duration may differ slightly from n×L; normalise per second of block
        block_s = t_last - t_first
        errs, inside, errs_co, bounds = [], [], [], []
        for ph in mb.phases:
            ref = ref_block * ph.duration_s / block_s
            comp = ph.component("gpu:0")
            errs.append(comp.energy_j / ref - 1)
            inside.append(abs(comp.energy_j - ref) <= comp.error_bound_j)
            raw_windows.append(
                {
                    "kind": "bursty",
                    "d": L,
                    "a": ph.start_s,
                    "b": ph.start_s + ph.duration_s,
                    "truth_j": ref,
                    "est_j": comp.energy_j,
                    "bound_j": comp.error_bound_j,
                }
            )
            bounds.append(comp.error_bound_j / ref)
            with gpu.lock:
                errs_co.append(gpu._interpolated(ph.start_s, ph.start_s + ph.duration_s).energy_j / ref - 1)
        bursty[str(L)] = {
            "cycles": n,
            "cycle_ref_j": ref_block / n,
            "p_idle_w": p_idle,
            "wattsup": summary(errs),
            "coverage": sum(inside) / n,
            "median_bound_pct": pct(statistics.median(bounds)),
            "wattsup_counter_only": summary(errs_co),
        }
        print("bursty", L, bursty[str(L)], flush=True)
    res["bursty"] = bursty

    # ------------------------------------------------------------ overhead
    layer = torch.nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True).cuda().eval()
    x = torch.randn(1, 16, 256, device="cuda")

    def loop(seconds: float, meter: Meter | None) -> float:
        n = 0
        t = time.perf_counter()
        with torch.inference_mode():
            while time.perf_counter() - t < seconds:
                if meter is None:
                    layer(x)
                    torch.cuda.synchronize()
                else:
                    with meter.phase("forward"):
                        layer(x)
                n += 1
        return n / (time.perf_counter() - t)

    loop(2, None)
    rows = []
    for i in range(15):
        r = {}
        for variant in [
            ("none", "wattsup", "codecarbon"),
            ("wattsup", "codecarbon", "none"),
            ("codecarbon", "none", "wattsup"),
        ][i % 3]:
            if variant == "none":
                r["none"] = loop(1.5, None)
            elif variant == "wattsup":
                from wattsup.meter import discover

                mt = Meter(
                    "overhead", sources=discover(cpu=True, ram=True).tracks, sync="auto", timeline=True
                )
                mt.start()
                r["wattsup"] = loop(1.5, mt)
                mt.stop()
            else:
                tr = EmissionsTracker(measure_power_secs=1, save_to_file=False, log_level="error")
                tr.start()
                r["codecarbon"] = loop(1.5, None)
                tr.stop()
        rows.append(r)
        print("overhead", r, flush=True)
    res["overhead"] = {
        "pairs": rows,
        "wattsup_slowdown_median_pct": pct(statistics.median(1 - r["wattsup"] / r["none"] for r in rows)),
        "codecarbon_slowdown_median_pct": pct(
            statistics.median(1 - r["codecarbon"] / r["none"] for r in rows)
        ),
        "wattsup_slowdown_range_pct": [
            pct(min(1 - r["wattsup"] / r["none"] for r in rows)),
            pct(max(1 - r["wattsup"] / r["none"] for r in rows)),
        ],
        "codecarbon_slowdown_range_pct": [
            pct(min(1 - r["codecarbon"] / r["none"] for r in rows)),
            pct(max(1 - r["codecarbon"] / r["none"] for r in rows)),
        ],
    }
    res["counter_reads_per_s"] = gpu.reads / max(1e-9, time.monotonic() - gpu.tick_m[0])
    res["tick_period_s"] = gpu.period_s
    print(json.dumps(res["overhead"]), flush=True)
    with open(os.path.join(out_dir, "gpu_meter_bench.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with gpu.lock:
        raw = {
            "windows": raw_windows,
            "tick_lo": gpu.tick_lo,
            "tick_hi": gpu.tick_hi,
            "tick_e": gpu.tick_e,
            "s_t": gpu.s_t,
            "s_p": gpu.s_p,
        }
    with open(os.path.join(out_dir, "gpu_meter_raw.json"), "w") as f:
        json.dump(raw, f)


if __name__ == "__main__":
    main()
