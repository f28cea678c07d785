"""Where a tiny model's ~5 s load on a GPU goes (issue 17), in a process set up as a spare worker is.

Each probe runs in a fresh interpreter: CUDA is started and the meter's sampler warmed (the spare's
``forkserver.warm_cuda``), then the quick suite's ``Task.load`` runs **twice** for each of a few models,
timed. A first load much slower than the second is paid once per process (CUDA kernels loaded on first
use, lazily, or anything else cached per process); both slow is the model build itself. The same probe
runs with ``CUDA_MODULE_LOADING=LAZY`` (CUDA's default) and ``EAGER`` (every kernel loaded when the context
is created, so inside ``warm_cuda``), and the time ``warm_cuda`` itself takes is printed for each.

    python benchmarks/gpu_load_probe.py            # prints JSON lines; also $OUT/gpu_load_probe.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

MODELS = (
    ("text-classification", "tiny/bert-classifier"),
    ("text-generation", "tiny/gpt2"),
    ("image-classification", "tiny/vit-classifier"),
    ("summarization", "tiny/bart-summarizer"),
)

DEVICE = os.environ.get("PROBE_DEVICE", "cuda")
PROBE = r"""
import json, sys, time
t0 = time.monotonic()
from wattsup.bench import forkserver
forkserver.preload()
t1 = time.monotonic()
forkserver.warm_cuda()
t2 = time.monotonic()
from wattsup.bench.protocol import load_inputs, normalise
from wattsup.bench.suites import suite_configs
from wattsup.bench.tasks import task_class
out = {"preload_s": t1 - t0, "warm_cuda_s": t2 - t1, "loads": []}
wanted = [tuple(x) for x in json.loads(sys.argv[1])]
configs = {(c.task, c.model): c for c in suite_configs("quick", device=sys.argv[2])}
for key in wanted:
    cfg = normalise(configs[key])
    model = cfg.model
    times = []
    for _ in range(2):
        task = task_class(cfg.task, cfg.mode)(cfg)
        load_inputs(task, cfg)
        a = time.monotonic()
        task.load()
        import torch
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.monotonic() - a)
    out["loads"].append({"model": model, "first_s": times[0], "second_s": times[1]})
print(json.dumps(out))
"""


def main() -> None:
    results = []
    for mode in ("LAZY", "EAGER"):
        env = {**os.environ, "CUDA_MODULE_LOADING": mode}
        t = time.monotonic()
        p = subprocess.run(
            [sys.executable, "-c", PROBE, json.dumps(MODELS), DEVICE],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - t
        line = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
        row = {"cuda_module_loading": mode, "rc": p.returncode, "process_wall_s": wall}
        if p.returncode == 0 and line.startswith("{"):
            row.update(json.loads(line))
        else:
            row["stderr_tail"] = p.stderr[-2000:]
        print(json.dumps(row), flush=True)
        results.append(row)
    out = os.environ.get("OUT")
    if out:
        Path(out, "gpu_load_probe.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
