"""What the benchmark harness adds per inference on the host, with the model's compute taken out.

The harness overhead on a GPU (``harness_overhead.py``) is a ratio of two noisy windows; this isolates
the deterministic part. Both sides run the real code with the model replaced by a stub that returns
fixed logits at once, so that what remains is tokenisation plus bookkeeping:

* ``harness``: ``wattsup.bench.protocol.execute`` (its metered window: a preprocess, forward and
  postprocess phase per inference, latencies, output units, progress callback);
* ``loop``: the minimal loop of ``harness_overhead.py`` (tokenise, call the model, build label/score
  outputs) inside one Meter window.

Interleaved rounds on the CPU; reports the median over rounds of the per-inference time of each and of
their difference, with a bootstrap 95% interval. On a GPU the harness adds, on top of this, one device
synchronisation per phase exit (three per inference for text classification), whose cost
``gpu_overhead_bench.py`` measures. Writes $OUT/harness_bookkeeping.json.

Usage: python benchmarks/harness_bookkeeping.py [N] [ROUNDS]   (defaults: 2000 15)
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import warnings
from types import SimpleNamespace
from typing import Any
from unittest import mock

import torch

from minimal_loop import classify
from wattsup.bench.api import make_config
from wattsup.bench.protocol import execute, load_inputs, seed_everything
from wattsup.bench.tasks import task_class
from wattsup.meter import Meter

warnings.simplefilter("ignore")
MODEL = "tiny/bert-classifier"


class StubModel(torch.nn.Module):
    """Answers at once with fixed logits; keeps the real model's config and forward signature."""

    def __init__(self, real: Any) -> None:
        super().__init__()
        self.config = real.config
        self._logits = torch.tensor([[0.2, 0.8]])

    def forward(self, input_ids: Any = None, attention_mask: Any = None, **kw: Any) -> Any:
        return SimpleNamespace(logits=self._logits)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    cfg = make_config(
        "text-classification", MODEL, "sst2", n=n, reps=1, warmup=10, weights="random", device="cpu"
    )
    cls = task_class(cfg.task, cfg.mode)
    real_load = cls.load

    def stub_load(self: Any) -> None:
        real_load(self)
        self.model = StubModel(self.model)

    seed_everything(cfg.seed)
    task = cls(cfg)
    inputs = load_inputs(task, cfg)
    stub_load(task)
    texts = [inputs[i]["text"] for i in range(n)]
    tok, net = task.tokenizer, task.model

    def loop() -> float:
        with torch.inference_mode(), Meter("loop", sync=None) as m:
            classify(tok, net, texts, "cpu")
        assert m.measurement is not None
        return m.measurement.duration_s / n

    def harness() -> float:
        with mock.patch.object(cls, "load", stub_load):
            rec = execute(cfg)
        return rec.repetitions[0].measurement.duration_s / n

    rows = []
    for i in range(rounds):
        pair = {"harness": harness(), "loop": loop()} if i % 2 else {"loop": loop(), "harness": harness()}
        rows.append(pair)
        print({k: round(v * 1e6, 2) for k, v in pair.items()}, flush=True)
    diff = [r["harness"] - r["loop"] for r in rows]
    rng = random.Random(0)
    boots = sorted(statistics.median(rng.choices(diff, k=len(diff))) for _ in range(4000))
    out = {
        "model": f"{MODEL} (catalog config, random weights; forward replaced by a stub)",
        "inputs": "synthetic profile 'sst2'",
        "n": n,
        "rounds": rounds,
        "torch": torch.__version__,
        "loop_us_per_inference_median": round(1e6 * statistics.median(r["loop"] for r in rows), 2),
        "harness_us_per_inference_median": round(1e6 * statistics.median(r["harness"] for r in rows), 2),
        "harness_minus_loop_us_median": round(1e6 * statistics.median(diff), 2),
        "harness_minus_loop_us_ci95": [round(1e6 * boots[100], 2), round(1e6 * boots[3899], 2)],
        "rows": rows,
    }
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=1))
    with open(os.path.join(os.environ.get("OUT", "."), "harness_bookkeeping.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
