"""What each NVML read the sampler can use costs the sampler's CPU, on an idle GPU and under load (issue 13).

The sampler process spends most of its CPU on the GPU track (eighth and ninth sessions, RESULTS.md): the
counter reads that bracket the energy counter's steps and the drains of the power-sample buffer. This
times each candidate call ``BENCH_CALLS`` times (default 150) in wall and in this thread's CPU time, with
the GPU idle and then with a bf16 matmul loop running on it from another process:

* ``energy``: ``nvmlDeviceGetTotalEnergyConsumption`` (the counter the GPU track brackets);
* ``field_energy``: the same counter through ``nvmlDeviceGetFieldValues`` (``NVML_FI_DEV_TOTAL_ENERGY_
  CONSUMPTION``);
* ``power``: ``nvmlDeviceGetPowerUsage``; ``field_power_instant``: ``NVML_FI_DEV_POWER_INSTANT`` where the
  driver has it;
* ``samples``: ``nvmlDeviceGetSamples(NVML_TOTAL_POWER_SAMPLES)`` since 1 s ago (a drain).

Calls come 20 ms apart (the sampler never reads back to back). Also what the power-sample buffer holds
(count, seconds spanned, spacing), idle and loaded. Prints JSON with the median and p90 per call, and
writes it to ``$OUT/nvml_call_cost.json``.
"""

from __future__ import annotations

import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pynvml as nv

CALLS = int(os.environ.get("BENCH_CALLS", "150"))
LOAD = """
import torch, time
a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
end = time.monotonic() + float(__import__("sys").argv[1])
while time.monotonic() < end:
    for _ in range(20):
        a @ a
    torch.cuda.synchronize()
"""


def calls(h: Any) -> dict[str, Callable[[], Any]]:
    out: dict[str, Callable[[], Any]] = {
        "energy": lambda: nv.nvmlDeviceGetTotalEnergyConsumption(h),
        "power": lambda: nv.nvmlDeviceGetPowerUsage(h),
        "samples": lambda: nv.nvmlDeviceGetSamples(
            h, nv.NVML_TOTAL_POWER_SAMPLES, int((time.time() - 1.0) * 1e6)
        ),
    }
    fe = getattr(nv, "NVML_FI_DEV_TOTAL_ENERGY_CONSUMPTION", None)
    if fe is not None:
        out["field_energy"] = lambda: nv.nvmlDeviceGetFieldValues(h, [fe])
    fp = getattr(nv, "NVML_FI_DEV_POWER_INSTANT", None)
    if fp is not None:
        out["field_power_instant"] = lambda: nv.nvmlDeviceGetFieldValues(h, [fp])
    return out


def time_calls(fns: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    errors: dict[str, str] = {}
    for _ in range(CALLS):
        for k, f in fns.items():
            if k in errors:
                continue
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                f()
            except nv.NVMLError as e:
                errors[k] = str(e)
                continue
            wall[k].append(time.perf_counter() - t0)
            cpu[k].append(time.thread_time() - c0)
            time.sleep(0.02)
    out: dict[str, Any] = {}
    for k in fns:
        if k in errors:
            out[k] = {"error": errors[k]}
            continue
        w, c = sorted(wall[k]), sorted(cpu[k])
        out[k] = {
            "wall_ms_median": round(statistics.median(w) * 1e3, 3),
            "wall_ms_p90": round(w[int(0.9 * (len(w) - 1))] * 1e3, 3),
            "cpu_ms_median": round(statistics.median(c) * 1e3, 3),
            "cpu_ms_p90": round(c[int(0.9 * (len(c) - 1))] * 1e3, 3),
            "cpu_ms_mean": round(statistics.fmean(c) * 1e3, 3),
        }
    return out


def buffer_span(h: Any) -> dict[str, Any]:
    """What the driver's power-sample buffer holds: all of it (``since`` 0), its count, the seconds between
    its oldest and newest sample, and the median spacing (how far apart drains may come)."""
    _, samples = nv.nvmlDeviceGetSamples(h, nv.NVML_TOTAL_POWER_SAMPLES, 0)
    ts = sorted(s.timeStamp for s in samples)
    gaps = [b - a for a, b in itertools.pairwise(ts)]
    return {
        "count": len(ts),
        "span_s": (ts[-1] - ts[0]) / 1e6 if len(ts) > 1 else 0.0,
        "spacing_ms_median": statistics.median(gaps) / 1e3 if gaps else None,
    }


def main() -> None:
    nv.nvmlInit()
    h = nv.nvmlDeviceGetHandleByIndex(0)
    fns = calls(h)
    res: dict[str, Any] = {
        "device": nv.nvmlDeviceGetName(h),
        "driver": nv.nvmlSystemGetDriverVersion(),
        "python": sys.version.split()[0],
        "calls": CALLS,
    }
    res["idle"] = time_calls(fns)
    res["idle_buffer"] = buffer_span(h)
    # the loaded part: long enough for every call of it, started a little before
    est = CALLS * len(fns) * 0.03 + 10
    load = subprocess.Popen([sys.executable, "-c", LOAD, str(est)])
    time.sleep(4)
    res["load"] = time_calls(fns)
    res["load_buffer"] = buffer_span(h)
    res["load_power_w"] = nv.nvmlDeviceGetPowerUsage(h) / 1000
    load.terminate()
    load.wait()
    nv.nvmlShutdown()
    text = json.dumps(res, indent=1)
    print(text)
    out = os.environ.get("OUT")
    if out:
        Path(out, "nvml_call_cost.json").write_text(text)


if __name__ == "__main__":
    main()
