"""Harness overhead (issue 4): the benchmark harness against a minimal hand-written loop doing the same
work with the same model and inputs, on the CPU or a GPU.

Both run in this process, interleaved (harness, loop, harness, loop, ...). The harness is
``wattsup.bench.protocol.execute`` (reps=1; its metered window has a preprocess, forward and postprocess
phase per inference); the loop tokenises, runs the model and builds the same label/score outputs with
no phases, inside one Meter window. Compares time and energy per inference (total, and GPU where there
is one). Prints JSON and writes $OUT/harness_overhead_DEVICE.json.

Usage: python benchmarks/harness_overhead.py [cpu|cuda] [N] [PAIRS]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import warnings

import torch

from wattsup.bench.api import make_config
from wattsup.bench.protocol import _sync_for, execute, load_inputs, seed_everything
from wattsup.bench.tasks import task_class
from wattsup.meter import Meter

warnings.simplefilter("ignore")


def main() -> None:
    device = sys.argv[1] if len(sys.argv) > 1 else "cpu"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    model = "distilbert-base-uncased-finetuned-sst-2-english"
    cfg = make_config(
        "text-classification", model, "imdb", n=n, reps=1, warmup=10, weights="random", device=device
    )
    seed_everything(cfg.seed)
    task = task_class(cfg.task, cfg.mode)(cfg)
    task.load()
    inputs = load_inputs(task, cfg)
    texts = [inputs[i]["text"] for i in range(n)]
    sync = _sync_for(device)
    tok, net = task.tokenizer, task.model
    id2label = getattr(net.config, "id2label", None) or {}

    def minimal() -> tuple[float, float, float | None]:
        with torch.inference_mode():
            for t in texts[:10]:
                net(**tok([t], truncation=True, padding=True, return_tensors="pt").to(device))
            with Meter("loop", sync=sync) as m:
                for t in texts:
                    enc = tok([t], truncation=True, padding=True, return_tensors="pt").to(device)
                    logits = net(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).logits
                    # the same outputs as the harness's task: label and score of the top class
                    probs = logits.float().softmax(-1)
                    best, scores = probs.argmax(-1).tolist(), probs.max(-1).values.tolist()
                    [
                        {"label": id2label.get(i, f"LABEL_{i}"), "score": sc}
                        for i, sc in zip(best, scores, strict=True)
                    ]
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

    rows = []
    for i in range(pairs):
        order = (
            (("harness", harness), ("loop", minimal))
            if i % 2 == 0
            else (("loop", minimal), ("harness", harness))
        )
        row = {}
        for name, fn in order:
            t0 = time.perf_counter()
            row[name] = fn()
            row[name + "_wall_s"] = time.perf_counter() - t0
        rows.append(row)
        print(row, flush=True)

    def ratio(idx: int) -> float | None:
        vals = [r["harness"][idx] / r["loop"][idx] - 1 for r in rows if r["loop"][idx]]
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
        "loop_ms_per_inference_median": 1e3 * statistics.median(r["loop"][0] for r in rows),
        "harness_ms_per_inference_median": 1e3 * statistics.median(r["harness"][0] for r in rows),
        "rows": rows,
    }
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=1))
    with open(os.path.join(os.environ.get("OUT", "."), f"harness_overhead_{device}.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
