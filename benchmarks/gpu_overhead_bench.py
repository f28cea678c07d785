"""Overhead of metering a Python-bound GPU inference loop (issue 2), on one NVIDIA GPU.

The loop: a small transformer encoder layer, batch 1, synchronised every iteration (launch-bound, so
any CPU or GIL cost of a meter shows up). Variants, interleaved in rotating order over many rounds of
short segments (slow drifts of the GPU clock cancel in adjacent segments):

* ``none``: no meter at all;
* ``window``: a wattsup Meter (own sampler thread, timeline on) open around the segment;
* ``phases``: the same, plus a ``forward`` phase around every inference (two clock reads per edge);
* ``codecarbon``: CodeCarbon's EmissionsTracker at measure_power_secs=1 running around the segment.

Reports the median over rounds of each variant's slowdown against ``none`` of the same round, with a
bootstrap 95% interval. Writes $OUT/gpu_overhead_bench.json.
"""

from __future__ import annotations

import json
import logging
import os
import random
import statistics
import time
import warnings

import torch

from wattsup.meter import Meter, discover

warnings.simplefilter("ignore")
logging.disable(logging.WARNING)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "25"))
SEG_S = 0.5


def main() -> None:
    from codecarbon import EmissionsTracker

    layer = torch.nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True).cuda().eval()
    x = torch.randn(1, 16, 256, device="cuda")

    def loop(meter: Meter | None, phases: bool) -> float:
        n = 0
        t = time.perf_counter()
        with torch.inference_mode():
            while time.perf_counter() - t < SEG_S:
                if phases and meter is not None:
                    with meter.phase("forward"):
                        layer(x)
                else:
                    layer(x)
                    torch.cuda.synchronize()
                n += 1
        return n / (time.perf_counter() - t)

    def run(variant: str) -> float:
        if variant == "none":
            return loop(None, False)
        if variant == "codecarbon":
            tr = EmissionsTracker(measure_power_secs=1, save_to_file=False, log_level="error")
            tr.start()
            r = loop(None, False)
            tr.stop()
            return r
        m = Meter("overhead", sources=discover().tracks, sync="auto", timeline=True)
        m.start()
        r = loop(m, variant == "phases")
        m.stop()
        return r

    for _ in range(4):
        loop(None, False)
    variants = ["none", "window", "phases", "codecarbon"]
    rows = []
    for i in range(ROUNDS):
        order = variants[i % 4 :] + variants[: i % 4]
        rows.append({v: run(v) for v in order})
    rng = random.Random(0)
    out: dict[str, object] = {
        "device": torch.cuda.get_device_name(0),
        "rounds": ROUNDS,
        "segment_s": SEG_S,
        "rows": rows,
    }
    for v in variants[1:]:
        slow = [1 - r[v] / r["none"] for r in rows]
        boots = sorted(statistics.median(rng.choices(slow, k=len(slow))) for _ in range(2000))
        out[v] = {
            "median_slowdown_pct": round(100 * statistics.median(slow), 3),
            "ci95_pct": [round(100 * boots[50], 3), round(100 * boots[1949], 3)],
            "range_pct": [round(100 * min(slow), 3), round(100 * max(slow), 3)],
        }
        print(v, out[v], flush=True)
    print("none it/s median", statistics.median(r["none"] for r in rows))
    with open(os.path.join(os.environ.get("OUT", "."), "gpu_overhead_bench.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
