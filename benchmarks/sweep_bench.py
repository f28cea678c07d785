"""Sweep executors: speed-up of Ray with 1 and 2 workers, and the Ray executor's overhead per run.

    .venv/bin/python benchmarks/sweep_bench.py cpu [--rounds 2] [--out benchmarks/results/FILE.json]
    python3 benchmarks/sweep_bench.py gpu [--out DIR]      # on a GPU machine: placement and attribution

``cpu``: a 16-run sweep of tiny random-weight models (4 models × 2 datasets × 2 batch sizes, n = 3, one
repetition, one warm-up), run with the ``local`` executor and with ``ray`` on a local cluster of 1 and
of 2 CPUs (one run per CPU), each into a fresh SQLite store; then the same 16 configurations with a
worker entry that returns a record at once (``noop``), locally and on Ray with one worker, which leaves
only what each executor adds per run. Ray sets ``OMP_NUM_THREADS`` to a task's CPUs (1 here), so the local
sweep runs twice: with torch's default threads and with ``OMP_NUM_THREADS=1``, the like-for-like case.
Rounds rotate the order of the variants; the median over rounds is reported.

``gpu``: a sweep of tiny models on ``cuda`` (two runs per GPU present, gpus_per_run 1) on a local Ray
cluster; prints, for every run, the ``CUDA_VISIBLE_DEVICES`` its subprocess inherited, the GPU
components the meter reported, and whether any two runs that overlapped in time shared a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import Repetition, RunConfig, RunRecord

HERE = Path(__file__).resolve().parent
SWEEP = """\
name: bench-16
weights: random
n: 3
reps: 1
warmup: 1
retries: 0
timeout_s: 600
batch_sizes: [1, 2]
matrix:
  - {tasks: text-classification, models: tiny/bert-classifier, datasets: [imdb, sst2]}
  - {tasks: text-generation, models: tiny/gpt2, datasets: [wikitext, oscar]}
  - {tasks: question-answering, models: tiny/distilbert-qa, datasets: [squad, sciq]}
  - {tasks: fill-mask, models: tiny/roberta-mlm, datasets: [c4, bookcorpus]}
"""
GPU_SWEEP = """\
name: bench-gpu
weights: random
device: cuda
n: 200
reps: 1
warmup: 5
retries: 0
timeout_s: 600
ray: {{gpus_per_run: 1, cpus_per_run: 1}}
tasks: text-classification
models: tiny/bert-classifier
datasets: imdb
seeds: {seeds}
"""


def noop(config: RunConfig) -> RunRecord:
    """A worker entry that measures nothing: what is left is the executor's own cost per run."""
    m = Measurement(
        name="inference",
        start_s=0.0,
        duration_s=0.001,
        components=[ComponentEnergy(name="cpu", energy_j=0.001, method="modeled", error_bound_j=0.0)],
    )
    return RunRecord(config=config, repetitions=[Repetition(index=0, measurement=m, inferences=config.n)])


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def run_variant(name: str, sweep: Path, workdir: Path) -> dict[str, Any]:
    from wattsup.sweep import run_sweep

    executor, _, rest = name.partition(":")
    workers = int(rest[0]) if executor == "ray" else 1
    entry = "sweep_bench:noop" if name.endswith("noop") else "wattsup.bench.protocol:execute"
    env = {"PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    if name == "local:1thread":
        env["OMP_NUM_THREADS"] = "1"
    db = workdir / f"{name.replace(':', '-')}-{time.monotonic_ns()}.db"
    load_before = _load()
    init_s = 0.0
    if executor == "ray":
        import ray

        t0 = time.perf_counter()
        ray.init(
            num_cpus=workers,
            include_dashboard=False,
            object_store_memory=80 * 1024 * 1024,
            log_to_driver=False,
            logging_level="warning",
        )
        init_s = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        result = run_sweep(sweep, executor=executor, db=str(db), entry=entry, env=env, workers=workers)
        wall_s = time.perf_counter() - t0
    finally:
        if executor == "ray":
            import ray

            ray.shutdown()
    if result.failed:
        raise SystemExit(f"{name}: {result.failed} runs failed: {[o.error for o in result.outcomes][:3]}")
    runs = len(result.outcomes)
    return {
        "variant": name,
        "runs": runs,
        "sweep_s": round(result.elapsed_s, 3),
        "wall_s_without_cluster_start": round(wall_s, 3),
        "cluster_start_s": round(init_s, 3),
        "per_run_s": round(result.elapsed_s / runs, 3),
        "median_run_turnaround_s": round(statistics.median(o.duration_s for o in result.outcomes), 3),
        "load_before": load_before,
        "load_after": _load(),
    }


VARIANTS = ["local", "local:1thread", "ray:1", "ray:2", "local:noop", "ray:1:noop"]


def cpu(rounds: int, out: Path | None, variants: list[str]) -> None:
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="wattsup-sweep-bench-") as d:
        workdir = Path(d)
        sweep = workdir / "sweep.yaml"
        sweep.write_text(SWEEP, encoding="utf-8")
        for r in range(rounds):
            order = variants[r % len(variants) :] + variants[: r % len(variants)]
            for name in order:
                row = run_variant(name, sweep, workdir)
                row["round"] = r
                results.append(row)
                print(json.dumps(row), flush=True)
    med = {v: statistics.median(x["sweep_s"] for x in results if x["variant"] == v) for v in variants}
    starts = [x["cluster_start_s"] for x in results if x["variant"].startswith("ray")]
    summary: dict[str, Any] = {"median_sweep_s": med}
    if starts:
        summary["median_cluster_start_s"] = round(statistics.median(starts), 2)
    if {"ray:1", "ray:2"} <= med.keys():
        summary["speedup_ray2_vs_ray1"] = round(med["ray:1"] / med["ray:2"], 2)
    if {"ray:2", "local", "local:1thread"} <= med.keys():
        summary["speedup_ray2_vs_local"] = round(med["local"] / med["ray:2"], 2)
        summary["speedup_ray2_vs_local_1thread"] = round(med["local:1thread"] / med["ray:2"], 2)
    if {"ray:1", "local:1thread"} <= med.keys():
        summary["ray1_overhead_per_run_s_vs_local_1thread"] = round(
            (med["ray:1"] - med["local:1thread"]) / 16, 3
        )
    if {"ray:1:noop", "local:noop"} <= med.keys():
        summary["noop_per_run_s"] = {
            "local": round(med["local:noop"] / 16, 3),
            "ray:1": round(med["ray:1:noop"] / 16, 3),
        }
        summary["noop_overhead_per_run_s"] = round((med["ray:1:noop"] - med["local:noop"]) / 16, 3)
    doc = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "rounds": rounds,
        "results": results,
        "summary": summary,
    }
    print(json.dumps(summary, indent=2))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def gpu(out: Path | None) -> None:
    import ray
    import torch

    from wattsup.results import Store
    from wattsup.sweep import run_sweep

    n_gpus = torch.cuda.device_count()
    if not n_gpus:
        raise SystemExit("no GPU here")
    with tempfile.TemporaryDirectory(prefix="wattsup-sweep-gpu-") as d:
        sweep = Path(d, "gpu.yaml")
        sweep.write_text(GPU_SWEEP.format(seeds=list(range(2 * n_gpus))), encoding="utf-8")
        db = str(Path(d, "runs.db"))
        ray.init(include_dashboard=False, log_to_driver=False, logging_level="warning")
        try:
            result = run_sweep(sweep, executor="ray", db=db)
        finally:
            ray.shutdown()
        with Store.open(db) as store:
            recs = [store.get(o.run_id) for o in result.outcomes if o.run_id]
    rows = []
    for r in recs:
        comps = (
            {c.name: round(c.energy_j, 3) for c in r.repetitions[0].measurement.components}
            if r.repetitions
            else {}
        )
        note = r.provenance.sensors.get("sharing", "")
        cvd = (
            note.split("CUDA_VISIBLE_DEVICES=", 1)[1].split(";")[0]
            if "CUDA_VISIBLE_DEVICES=" in note
            else None
        )
        rows.append(
            {
                "seed": r.config.seed,
                "status": r.status,
                "error": r.error,
                "cuda_visible_devices": cvd,
                "gpu_components": {k: v for k, v in comps.items() if k.startswith("gpu")},
                "components": comps,
                "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                "sensors": r.provenance.sensors,
            }
        )
    overlaps = []
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if (
                a["finished_at"]
                and b["finished_at"]
                and a["started_at"] < b["finished_at"]
                and b["started_at"] < a["finished_at"]
            ):
                overlaps.append(
                    {
                        "seeds": [a["seed"], b["seed"]],
                        "same_gpu": a["cuda_visible_devices"] == b["cuda_visible_devices"],
                    }
                )
    doc = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "gpus": [torch.cuda.get_device_name(i) for i in range(n_gpus)],
        "ray": ray.__version__,
        "sweep_s": round(result.elapsed_s, 2),
        "ok": result.ok,
        "failed": result.failed,
        "runs": rows,
        "overlapping_pairs": overlaps,
    }
    text = json.dumps(doc, indent=2, default=str)
    print(text)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "sweep-gpu.json").write_text(text + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("cpu", help="speed-up and overhead on this machine")
    c.add_argument("--rounds", type=int, default=2)
    c.add_argument("--out", type=Path)
    c.add_argument("--variants", nargs="+", choices=VARIANTS, default=VARIANTS)
    g = sub.add_parser("gpu", help="GPU placement and attribution on a GPU machine")
    g.add_argument("--out", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.mode == "cpu":
        cpu(args.rounds, args.out, args.variants)
    else:
        gpu(args.out)


if __name__ == "__main__":
    main()
