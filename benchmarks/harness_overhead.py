"""Harness overhead (issue 4): the benchmark harness against a minimal hand-written loop doing the same
work with the same model and inputs, on the CPU or a GPU.

Three variants run in this process, interleaved in rotating order, each starting alike: a fresh
model built from the catalog (random weights, same seed), 10 warm-up inferences, a garbage
collection, then one metered window of N inferences.

* ``harness``: ``wattsup.bench.protocol.execute`` (reps=1; a preprocess, forward and postprocess
  phase per inference);
* ``harness_nophase``: the same with ``Meter.phase`` a no-op (what the per-inference phases cost);
* ``loop``: tokenise, run the model and build the same label/score outputs, no phases.

Compares time and energy per inference (total, and GPU where there is one) against the loop. Prints
JSON and writes $OUT/harness_overhead_DEVICE.json.

Usage: python benchmarks/harness_overhead.py [cpu|cuda] [N] [PAIRS]   (defaults: cpu 200 8)
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
import warnings
from contextlib import nullcontext
from unittest import mock

import torch

from minimal_loop import classify
from wattsup.bench.api import make_config
from wattsup.bench.protocol import _sync_for, execute, load_inputs, seed_everything
from wattsup.bench.tasks import task_class
from wattsup.meter import Meter

warnings.simplefilter("ignore")


def main() -> None:
    device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    model = "distilbert-base-uncased-finetuned-sst-2-english"
    cfg = make_config(
        "text-classification", model, "imdb", n=n, reps=1, warmup=10, weights="random", device=device
    )
    sync = _sync_for(device)

    def minimal() -> tuple[float, float, float | None]:
        seed_everything(cfg.seed)
        task = task_class(cfg.task, cfg.mode)(cfg)
        inputs = load_inputs(task, cfg)
        task.load()
        texts = [inputs[i]["text"] for i in range(n)]
        tok, net = task.tokenizer, task.model
        with torch.inference_mode():
            for t in texts[:10]:
                net(**tok([t], truncation=True, padding=True, return_tensors="pt").to(device))
            gc.collect()
            with Meter("loop", sync=sync) as m:
                classify(tok, net, texts, device)
        meas = m.measurement
        assert meas is not None
        gpu = (
            sum(c.energy_j for c in meas.components if c.name.startswith("gpu")) if device == "cuda" else None
        )
        return meas.duration_s / n, meas.total_energy_j / n, (gpu / n if gpu is not None else None)

    def harness() -> tuple[float, float, float | None]:
        rec = execute(cfg)
        meas = rec.repetitions[0].measurement
        gpu = (
            sum(c.energy_j for c in meas.components if c.name.startswith("gpu")) if device == "cuda" else None
        )
        return meas.duration_s / n, meas.total_energy_j / n, (gpu / n if gpu is not None else None)

    def harness_without_phases() -> tuple[float, float, float | None]:
        # the same execute() with Meter.phase a no-op: what the per-inference phases cost
        with mock.patch.object(Meter, "phase", lambda self, name: nullcontext()):
            return harness()

    variants = [("harness", harness), ("loop", minimal), ("harness_nophase", harness_without_phases)]
    rows = []
    for i in range(pairs):
        k = i % len(variants)
        order = variants[k:] + variants[:k]
        row: dict[str, object] = {}
        for name, fn in order:
            t0 = time.perf_counter()
            row[name] = fn()
            row[name + "_wall_s"] = time.perf_counter() - t0
        rows.append(row)
        print(row, flush=True)

    def ratio(idx: int, variant: str = "harness") -> float | None:
        vals = [r[variant][idx] / r["loop"][idx] - 1 for r in rows if r["loop"][idx]]  # type: ignore[index]
        return round(100 * statistics.median(vals), 3) if vals else None

    out = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else device,
        "model": model,
        "weights": "random",
        "n": n,
        "pairs": pairs,
        "time_per_inference_overhead_pct_median": ratio(0),
        "energy_per_inference_overhead_pct_median": ratio(1),
        "gpu_energy_per_inference_overhead_pct_median": ratio(2),
        "without_phases_time_overhead_pct_median": ratio(0, "harness_nophase"),
        "without_phases_energy_overhead_pct_median": ratio(1, "harness_nophase"),
        **{
            f"{v}_ms_per_inference_median": 1e3 * statistics.median(r[v][0] for r in rows)  # type: ignore[index]
            for v, _ in variants
        },
        "rows": rows,
    }
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=1))
    with open(os.path.join(os.environ.get("OUT", "."), f"harness_overhead_{device}.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
