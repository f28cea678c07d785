"""Characterise the NVML energy counter and power readings of the GPU this runs on.

Prints JSON: cost of each NVML read, how often each signal changes, whether counter ticks are
regular (period, jitter) and whether power-reading changes line up with counter ticks, idle and
under a steady bf16 matmul load. Used to design wattsup's counter timeline; results are recorded
in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
import time

import pynvml as N


def _load_proc() -> subprocess.Popen[bytes]:
    code = (
        "import torch,time\n"
        "a=torch.randn(8192,8192,device='cuda',dtype=torch.bfloat16)\n"
        "b=torch.randn(8192,8192,device='cuda',dtype=torch.bfloat16)\n"
        "t=time.time()\n"
        "while time.time()-t<60:\n"
        "    for _ in range(20): a@b\n"
        "    torch.cuda.synchronize()\n"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def cost(fn, n=200):
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n * 1e3


def changes(fn, seconds, gap=0.0):
    out = []
    last = None
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        v = fn()
        t1 = time.monotonic()
        if v != last:
            out.append((t0, t1, v))
            last = v
        if gap:
            time.sleep(gap)
    return out


def summarize(ch):
    ts = [(a + b) / 2 for a, b, _ in ch[1:]]
    d = [y - x for x, y in itertools.pairwise(ts)]
    widths = [b - a for a, b, _ in ch]
    if len(d) < 3:
        return {"n": len(d)}
    return {
        "n_changes": len(d),
        "period_ms_median": statistics.median(d) * 1e3,
        "period_ms_min": min(d) * 1e3,
        "period_ms_max": max(d) * 1e3,
        "period_ms_stdev": statistics.pstdev(d) * 1e3,
        "read_ms_median": statistics.median(widths) * 1e3,
    }


def main() -> None:
    N.nvmlInit()
    h = N.nvmlDeviceGetHandleByIndex(0)
    res = {
        "name": N.nvmlDeviceGetName(h),
        "driver": N.nvmlSystemGetDriverVersion(),
        "nvml": N.nvmlSystemGetNVMLVersion(),
        "power_limit_w": N.nvmlDeviceGetEnforcedPowerLimit(h) / 1e3,
    }
    inst = lambda: N.nvmlDeviceGetFieldValues(h, [N.NVML_FI_DEV_POWER_INSTANT])[0].value.uiVal
    avg_f = lambda: N.nvmlDeviceGetFieldValues(h, [N.NVML_FI_DEV_POWER_AVERAGE])[0].value.uiVal
    cnt = lambda: N.nvmlDeviceGetTotalEnergyConsumption(h)
    pu = lambda: N.nvmlDeviceGetPowerUsage(h)
    res["cost_ms"] = {
        "counter": cost(cnt, 100),
        "power_usage": cost(pu),
        "instant_field": cost(inst),
        "average_field": cost(avg_f),
    }
    for phase in ("idle", "load"):
        proc = None
        if phase == "load":
            proc = _load_proc()
            time.sleep(8)
        r = {}
        r["counter"] = summarize(changes(cnt, 3))
        r["power_usage"] = summarize(changes(pu, 3, 0.0005))
        r["instant"] = summarize(changes(inst, 3, 0.0005))
        # alignment: poll instant power every ~0.5 ms, read the counter right after each change
        rows = []
        last_p = None
        last_c = cnt()
        end = time.monotonic() + 4
        while time.monotonic() < end:
            t0 = time.monotonic()
            p = inst()
            if p != last_p:
                c0 = time.monotonic()
                c = cnt()
                c1 = time.monotonic()
                rows.append((t0, p, c0, c1, c, c != last_c))
                last_p, last_c = p, c
            time.sleep(0.0005)
        r["align_counter_changed_at_power_change_frac"] = sum(1 for x in rows if x[5]) / max(1, len(rows))
        # Counter-change timing relative to power change: poll the counter densely for a while after
        lag = []
        for _ in range(20):
            p0 = inst()
            while inst() == p0:
                time.sleep(0.0002)
            tp = time.monotonic()
            c0 = cnt()
            while True:
                a = time.monotonic()
                c = cnt()
                b = time.monotonic()
                if c != c0:
                    lag.append(((a + b) / 2 - tp) * 1e3)
                    break
                if b - tp > 0.2:
                    lag.append(None)
                    break
        r["counter_change_after_power_change_ms"] = lag
        try:
            ts = 0
            _vt, samples = N.nvmlDeviceGetSamples(h, N.NVML_TOTAL_POWER_SAMPLES, ts)
            stamps = [s.timeStamp for s in samples]
            d = [(b - a) / 1e3 for a, b in itertools.pairwise(stamps)]
            r["samples_buffer"] = {
                "n": len(samples),
                "interval_ms_median": statistics.median(d) if d else None,
                "first_vals": [s.sampleValue.uiVal for s in samples[:5]],
            }
        except N.NVMLError as e:
            r["samples_buffer"] = str(e)
        if proc:
            proc.kill()
            proc.wait()
        res[phase] = r
    print(json.dumps(res, indent=1, default=str))


if __name__ == "__main__":
    main()
