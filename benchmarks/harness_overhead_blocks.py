"""Harness overhead per inference, block-interleaved (issue 4): the harness's metered loop against a
minimal hand-written loop, alternating every block of B inferences on one loaded model.

``harness_overhead.py`` compares whole windows (a fresh model each), which on a shared VM swing by
tens of percent from one window to the next. The harness's costs are per inference (phases and their
device syncs, input filtering, latency and unit bookkeeping), so this compares them where drift
cancels: one model, one Meter window open throughout, and rounds of [harness block][loop block] in
alternating order, each block its own phase (so the meter gives each block's energy too). The harness
block runs ``wattsup.bench.protocol.run_batches`` — the very loop ``execute`` meters — with the
task's preprocess/forward/postprocess phases; the loop block tokenises, calls the model and builds
the same label/score outputs. Both see the same inputs in each round.

Reports the median over rounds of harness/loop − 1 for time and energy (total and GPU), with
bootstrap 95% intervals. Writes $OUT/harness_overhead_blocks_DEVICE.json.

The harness's meter is set as ``execute`` sets it: a device sync at each phase exit but the
``preprocess`` one. ``detail`` (fourth argument) adds three controls: ``harness_allsync`` (a sync at
every phase exit, preprocess too: the harness before 2026-11-27), ``harness_nosync`` (edges on the
host's clock alone: the phase bookkeeping) and ``harness_nophase`` (phases no-ops: ``run_batches``
and the task's code alone). The kinds run in a rotating order.

Usage: python benchmarks/harness_overhead_blocks.py [cpu|cuda] [ROUNDS] [BLOCK] [detail]
       (defaults: cuda 150 50; on the CPU, e.g. cpu 30 4)
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
import warnings
from typing import Any

import torch

from minimal_loop import classify
from wattsup.bench.api import make_config
from wattsup.bench.protocol import _sync_for, load_inputs, run_batches, seed_everything
from wattsup.bench.tasks import task_class
from wattsup.bench.tasks.base import no_phase
from wattsup.meter import Meter
from wattsup.meter.measurement import Measurement

warnings.simplefilter("ignore")
MODEL = "distilbert-base-uncased-finetuned-sst-2-english"


def ci(values: list[float], rng: random.Random) -> list[float]:
    boots = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(4000))
    return [round(100 * boots[100], 3), round(100 * boots[3899], 3)]


def main() -> None:
    device = sys.argv[1] if len(sys.argv) > 1 else "cuda"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 150
    block = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    detail = len(sys.argv) > 4 and sys.argv[4] == "detail"
    kinds = ["harness", "loop"] + (["harness_allsync", "harness_nosync", "harness_nophase"] if detail else [])
    n = min(1000, rounds * block)
    cfg = make_config(
        "text-classification", MODEL, "imdb", n=n, reps=1, warmup=10, weights="random", device=device
    )
    seed_everything(cfg.seed)
    task = task_class(cfg.task, cfg.mode)(cfg)
    inputs = load_inputs(task, cfg)
    task.load()
    examples = [inputs[i] for i in range(n)]
    tok, net = task.tokenizer, task.model
    sync = _sync_for(device)

    def loop_block(block_examples: list[dict[str, Any]]) -> None:
        classify(tok, net, (ex["text"] for ex in block_examples), device)

    times: list[dict[str, float]] = []
    with torch.inference_mode():
        for ex in examples[:20]:  # warm-up of both paths
            task.run([ex], no_phase)
            loop_block([ex])
        # set as execute sets it
        meter = Meter(
            "overhead", sync=sync, sync_phases=True, sync_phase_enter=False, host_phases=("preprocess",)
        )
        meter.start()
        for r in range(rounds):
            s = (r * block) % n
            chunk = examples[s : s + block]
            row: dict[str, float] = {}
            # rotate the order (two kinds: alternate), so no kind always follows the same one
            order = kinds[r % len(kinds) :] + kinds[: r % len(kinds)]
            for kind in order:
                with meter.phase(f"{kind}{r}"):
                    t0 = time.perf_counter()
                    if kind == "harness":
                        run_batches(task, [[ex] for ex in chunk], meter.phase, [])
                    elif kind == "harness_allsync":
                        meter.host_phases = frozenset()  # a sync leaving every phase
                        try:
                            run_batches(task, [[ex] for ex in chunk], meter.phase, [])
                        finally:
                            meter.host_phases = frozenset({"preprocess"})
                    elif kind == "harness_nosync":
                        saved, meter._sync = meter._sync, None  # phase edges on the host's clock alone
                        try:
                            run_batches(task, [[ex] for ex in chunk], meter.phase, [])
                        finally:
                            meter._sync = saved
                    elif kind == "harness_nophase":
                        run_batches(task, [[ex] for ex in chunk], no_phase, [])
                    else:
                        loop_block(chunk)
                    if sync is not None:
                        sync()
                    row[kind] = (time.perf_counter() - t0) / len(chunk)
            times.append(row)
        m = meter.stop()

    def energy(p: Measurement, gpu_only: bool) -> float:
        return sum(c.energy_j for c in p.components if not gpu_only or c.name.startswith("gpu"))

    phases = {p.name: p for p in m.phases}
    rng = random.Random(0)
    t_ratio = [t["harness"] / t["loop"] - 1 for t in times]
    others = {k: [t[k] / t["loop"] - 1 for t in times] for k in kinds[2:]}
    out: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else device,
        "torch": torch.__version__,
        "model": f"{MODEL} (catalog config, random weights)",
        "inputs": "synthetic profile 'imdb'",
        "rounds": rounds,
        "block": block,
        "loop_ms_per_inference_median": round(1e3 * statistics.median(t["loop"] for t in times), 4),
        "harness_ms_per_inference_median": round(1e3 * statistics.median(t["harness"] for t in times), 4),
        "time_overhead_pct_median": round(100 * statistics.median(t_ratio), 3),
        "time_overhead_pct_ci95": ci(t_ratio, rng),
    }
    for k, ratios in others.items():
        out[f"{k}_ms_per_inference_median"] = round(1e3 * statistics.median(t[k] for t in times), 4)
        out[f"{k}_time_overhead_pct_median"] = round(100 * statistics.median(ratios), 3)
        out[f"{k}_time_overhead_pct_ci95"] = ci(ratios, rng)
    for label, gpu_only in (("energy", False), ("gpu_energy", True)):
        if gpu_only and not device.startswith("cuda"):
            continue
        for k in ["harness", *kinds[2:]]:
            ratios = [
                energy(phases[f"{k}{r}"], gpu_only) / energy(phases[f"loop{r}"], gpu_only) - 1
                for r in range(rounds)
            ]
            prefix = "" if k == "harness" else f"{k}_"
            out[f"{prefix}{label}_overhead_pct_median"] = round(100 * statistics.median(ratios), 3)
            out[f"{prefix}{label}_overhead_pct_ci95"] = ci(ratios, rng)
    out["sensor_methods"] = {c.name: c.method for c in m.components}
    out["rows"] = times
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=1))
    with open(os.path.join(os.environ.get("OUT", "."), f"harness_overhead_blocks_{device}.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
