"""Several GPUs of one host (issue 18), three parts; needs 2 or more NVIDIA GPUs (``--smoke``: the CPU).

a. **Meter accuracy per GPU, the GPUs loaded unequally.** One thread per GPU of this process runs bf16
   matmuls for a different share of every 100 ms (GPU k: ``DUTIES[k]``), so each GPU draws its own power.
   Meanwhile ``Meter()`` windows of 1 and 3 s (``--reps`` each) are taken in the main thread, the way a
   user meters an in-process workload; each window has one ``gpu:N`` component per GPU. Oracle, not from
   wattsup: gpu_inprocess_bench.py's ``DenseOracle``, one per GPU (a process that reads that GPU's NVML
   energy counter without pause and logs every step); a window [a, b] on GPU k holds P_k × (b − a), P_k
   the counter's mean power over the steps inside the window (≥ 0.25 s of them), else within ±1 s of it.
   Per GPU: median and p95 relative error, and the share of windows whose truth lies inside wattsup's own
   bound.
b. **Serving J per output token, 1 GPU against 2.** ``wattsup serve --json`` in a process of its own per
   setting: ``--replicas 1`` with ``CUDA_VISIBLE_DEVICES=0`` and ``--replicas 2`` with ``0,1`` (so each
   meters exactly the GPUs its model used), static batching, the same prompts; per level J/token (± bound),
   tokens/s, and the life cycle under both boundaries with its idle-capacity part (charged per GPU).
c. **Sweep speed-up.** ``wattsup sweep FILE --gpus all --json`` against ``--gpus 0`` on a sweep of
   ``--runs`` small runs (tiny random-weight models on ``cuda``): wall time of each and the speed-up.

``--smoke`` checks the plumbing on the CPU in about a minute: (a) with the workload on CPU threads and no
oracle (nothing is scored), (b) with CPU replicas of tiny/gpt2, (c) with the local slot scheduler over two
pseudo-GPU slots and a worker entry that sleeps (the speed-up of sleeping runs, not of GPU runs). Writes
$OUT/multi_gpu_bench.json (or ./multi_gpu_bench.json) after each part and prints a summary.

    python benchmarks/multi_gpu_bench.py [--parts a,b,c] [--reps 8] [--model gpt2] [--runs 8]
    python benchmarks/multi_gpu_bench.py --smoke
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DUTIES = [1.0, 0.35, 0.7, 0.15, 0.85, 0.5, 0.25, 0.6]
"""Share of every 100 ms that GPU k computes (unequal loads); the rest it idles."""
PERIOD_S = 0.1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="the plumbing on the CPU, nothing scored")
    p.add_argument("--parts", default="a,b,c")
    p.add_argument("--reps", type=int, default=8, help="(a) windows per length")
    p.add_argument("--model", default="gpt2", help="(b) the served model (random weights)")
    p.add_argument("--levels", default="1,8,32", help="(b) concurrency levels")
    p.add_argument("--requests", type=int, default=128, help="(b) requests per level")
    p.add_argument("--runs", type=int, default=8, help="(c) runs in the sweep")
    args = p.parse_args(argv)
    if args.smoke:
        args.reps, args.model, args.levels, args.requests, args.runs = 1, "tiny/gpt2", "2", 8, 4
    return args


# ------------------------------------------------------------------------------------------- (a)


def score(windows: list[dict[str, Any]], truth: Callable[[int, float, float], float]) -> dict[str, Any]:
    """Per GPU: relative errors of the metered energy against ``truth(gpu, a, b)`` and bound coverage."""
    per_gpu: dict[str, dict[str, Any]] = {}
    for w in windows:
        for name, (energy_j, bound_j) in w["gpus"].items():
            true_j = truth(int(name.split(":")[1]), w["a"], w["b"])
            g = per_gpu.setdefault(name, {"errors": [], "covered": 0, "windows": 0})
            g["errors"].append((energy_j - true_j) / true_j)
            g["covered"] += abs(energy_j - true_j) <= bound_j
            g["windows"] += 1
    out = {}
    for name, g in sorted(per_gpu.items()):
        errs = sorted(abs(e) for e in g["errors"])
        out[name] = {
            "windows": g["windows"],
            "median_abs_error_pct": round(100 * statistics.median(errs), 3),
            "p95_abs_error_pct": round(100 * errs[min(len(errs) - 1, int(0.95 * len(errs)))], 3),
            "bound_coverage": round(g["covered"] / g["windows"], 3),
        }
    return out


def load_device(device: str, duty: float, stop: threading.Event) -> None:
    """Compute on ``device`` for ``duty`` of every :data:`PERIOD_S`, idle for the rest, until ``stop``."""
    import torch

    n = 8192 if device.startswith("cuda") else 256
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    a = torch.randn(n, n, device=device, dtype=dtype)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda *_: None)
    while not stop.is_set():
        t0 = time.monotonic()
        while time.monotonic() - t0 < duty * PERIOD_S:
            a @ a
            sync(device)
        time.sleep(max(PERIOD_S - (time.monotonic() - t0), 0.0))


def part_a(args: argparse.Namespace, devices: list[str], indices: list[int]) -> dict[str, Any]:
    import random

    from wattsup.meter import Meter

    oracles: dict[int, Any] = {}

    durations = [1.0, 3.0] if not args.smoke else [0.3]
    plan = [d for d in durations for _ in range(args.reps)]
    random.Random(0).shuffle(plan)
    total_s = sum(plan) + 4.0 + 0.5 * len(plan)
    if not args.smoke:
        from gpu_inprocess_bench import DenseOracle  # its counter reader, one per GPU

        oracles = {i: DenseOracle(total_s, i) for i in indices}
    stop = threading.Event()
    duties = {d: DUTIES[k % len(DUTIES)] for k, d in enumerate(devices)}
    loads = [
        threading.Thread(target=load_device, args=(d, duty, stop), daemon=True) for d, duty in duties.items()
    ]
    for t in loads:
        t.start()
    windows = []
    try:
        time.sleep(2.0 if not args.smoke else 0.2)  # every GPU at its load before the first window
        for seconds in plan:
            with Meter() as m:
                time.sleep(seconds)
            assert m.measurement is not None
            gpus = {
                c.name: (c.energy_j, c.error_bound_j)
                for c in m.measurement.components
                if c.name.startswith("gpu:")
            }
            a = m.measurement.start_s
            windows.append(
                {
                    "seconds": seconds,
                    "a": a,
                    "b": a + m.measurement.duration_s,
                    "gpus": gpus,
                    "components": sorted(c.name for c in m.measurement.components),
                }
            )
            time.sleep(0.5)
    finally:
        stop.set()
        for t in loads:
            t.join()
    for o in oracles.values():
        o.finish()
    scored = score(windows, lambda i, a, b: oracles[i].power(a, b) * (b - a)) if oracles else None
    return {
        "duties": duties,
        "windows": windows,
        "per_gpu": scored,
        "note": "scored against one NVML counter reader per GPU" if oracles else "smoke: no NVML, not scored",
    }


# ------------------------------------------------------------------------------------------- (b)


def serve(args: argparse.Namespace, device: str, replicas: int, visible: str | None) -> dict[str, Any]:
    """``wattsup serve --json`` in a process of its own that sees ``visible`` GPUs."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if visible is not None:
        env["CUDA_VISIBLE_DEVICES"], env["CUDA_DEVICE_ORDER"] = visible, "PCI_BUS_ID"
    cmd = [
        sys.executable,
        "-m",
        "wattsup",
        "serve",
        "-m",
        args.model,
        "--device",
        device,
        "--replicas",
        str(replicas),
        "-c",
        args.levels,
        "-n",
        str(args.requests),
        "--max-input-tokens",
        "128",
        "--max-output-tokens",
        "64" if not args.smoke else "4",
        "--no-store",
        "--json",
        "--idle-seconds",
        "5" if not args.smoke else "0",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=3600)
    if proc.returncode != 0:
        return {"replicas": replicas, "error": proc.stderr[-2000:]}
    result = json.loads(proc.stdout)
    rows = []
    for lv in result["levels"]:
        lc = lv.get("life_cycle") or {}
        idle = next((p for p in lc.get("parts", []) if p["part"] == "idle capacity"), None)
        rows.append(
            {
                "level": f"{lv['level']['kind']}={lv['level']['value']:g}",
                "j_per_output_token": lv["j_per_output_token"],
                "tokens_per_s": lv["tokens_per_s"],
                "gpus_metered": sorted(c for c in lv["components"] if c.startswith("gpu:")),
                "life_cycle_gpus": lc.get("gpus"),
                "active_wh_per_1k_tokens": (lc.get("active") or {})
                .get("per_1k_output_tokens", {})
                .get("energy_wh"),
                "comprehensive_wh_per_1k_tokens": (lc.get("comprehensive") or {})
                .get("per_1k_output_tokens", {})
                .get("energy_wh"),
                "idle_capacity": idle,
                "life_cycle_note": lv.get("life_cycle_note"),
            }
        )
    return {"replicas": replicas, "visible": visible, "device": result["engine"]["device"], "levels": rows}


def part_b(args: argparse.Namespace) -> dict[str, Any]:
    device = "cpu" if args.smoke else "cuda"
    return {
        "one": serve(args, device, 1, None if args.smoke else "0"),
        "two": serve(args, device, 2, None if args.smoke else "0,1"),
    }


# ------------------------------------------------------------------------------------------- (c)


def sleeper(config: Any) -> Any:
    """A worker entry (smoke): sleeps ``$MULTI_GPU_SLEEP_S``, then sweep_bench's record of nothing."""
    from sweep_bench import noop

    time.sleep(float(os.environ.get("MULTI_GPU_SLEEP_S", "1")))
    return noop(config)


SWEEP = """name: multi-gpu-bench
weights: random
device: cuda
n: 200
reps: 1
warmup: 5
retries: 0
tasks: text-classification
models: tiny/bert-classifier
datasets: imdb
seeds: {seeds}
"""


def sweep_wall(file: Path, gpus: str, smoke: bool, workdir: Path) -> dict[str, Any]:
    db = workdir / f"gpus-{gpus.replace(',', '_')}.db"
    if smoke:  # the slot scheduler over pseudo-GPU slots; the runs sleep and touch no GPU
        from wattsup.results import Store
        from wattsup.sweep import load_sweep
        from wattsup.sweep.execute import NullReporter, RunOptions, plan_sweep, run_local
        from wattsup.sweep.slots import Gpu

        slots = [Gpu(int(i), "pseudo-GPU (smoke)", f"none-{i}") for i in gpus.split(",")]
        env = {"PYTHONPATH": str(HERE), "MULTI_GPU_SLEEP_S": "0.5"}
        with Store.open(str(db)) as store:
            plan = plan_sweep(load_sweep(file), store)
            result = run_local(
                plan, store, RunOptions(entry="multi_gpu_bench:sleeper", env=env), NullReporter(), gpus=slots
            )
        summary: dict[str, Any] = result.summary()
    else:
        cmd = [sys.executable, "-m", "wattsup", "sweep", str(file), "--gpus", gpus, "--db", str(db), "--json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=3600)
        if proc.returncode not in (0, 1):
            return {"gpus": gpus, "error": proc.stderr[-2000:]}
        summary = json.loads(proc.stdout)
    return {"gpus": gpus, "ok": summary["ok"], "failed": summary["failed"], "elapsed_s": summary["elapsed_s"]}


def part_c(args: argparse.Namespace, indices: list[int]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as d:
        file = Path(d) / "sweep.yaml"
        file.write_text(SWEEP.format(seeds=list(range(args.runs))), encoding="utf-8")
        every = ",".join(map(str, indices))
        one = sweep_wall(file, str(indices[0]), args.smoke, Path(d))
        all_ = sweep_wall(file, every if not args.smoke else "0,1", args.smoke, Path(d))
    speedup = (
        round(one["elapsed_s"] / all_["elapsed_s"], 3)
        if "elapsed_s" in one and "elapsed_s" in all_ and all_["elapsed_s"] > 0
        else None
    )
    return {"runs": args.runs, "one_gpu": one, "all_gpus": all_, "speedup": speedup}


# ------------------------------------------------------------------------------------------- main


def devices_here(smoke: bool) -> tuple[list[str], list[int]]:
    """(torch devices, NVML indices) of the GPUs to load: cuda:k ↔ the k-th visible NVML index."""
    if smoke:
        return ["cpu", "cpu"], [0, 1]
    from wattsup.sensors import nvml

    nv = nvml.acquire()
    try:
        indices = nvml.visible_indices(nv)
    finally:
        nvml.release()
    if len(indices) < 2:
        raise SystemExit(f"needs 2 or more GPUs, NVML sees {len(indices)} here; try --smoke on the CPU")
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")  # cuda:k is the k-th GPU NVML lists
    return [f"cuda:{k}" for k in range(len(indices))], indices


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    devices, indices = devices_here(args.smoke)
    out = Path(os.environ.get("OUT", ".")) / "multi_gpu_bench.json"
    report: dict[str, Any] = {
        "smoke": args.smoke,
        "args": vars(args),
        "devices": devices,
        "nvml_indices": indices,
    }
    parts = {
        "a": lambda: part_a(args, devices, indices),
        "b": lambda: part_b(args),
        "c": lambda: part_c(args, indices),
    }
    for name in args.parts.split(","):
        t0 = time.monotonic()
        report[name] = parts[name]()
        report[name]["took_s"] = round(time.monotonic() - t0, 1)
        out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    _summary(report)
    return 0


def _summary(report: dict[str, Any]) -> None:
    from wattsup.format import sig

    if "a" in report:
        print("(a) meter per GPU:", report["a"]["note"])
        for name, g in (report["a"]["per_gpu"] or {}).items():
            print(
                f"    {name}: median |error| {g['median_abs_error_pct']}%, p95 {g['p95_abs_error_pct']}%, "
                f"bound covers {g['bound_coverage']:.0%} of {g['windows']} windows"
            )
    if "b" in report:
        for key in ("one", "two"):
            r = report["b"][key]
            for lv in r.get("levels", []):
                j = lv["j_per_output_token"]
                print(
                    f"(b) {r['replicas']} replica(s) {lv['level']}: J/token {sig(j['value'])} ± "
                    f"{sig(j['error_bound'], '.2g')} ({j['method']}), {sig(lv['tokens_per_s'])} tokens/s, "
                    f"GPUs {lv['gpus_metered']}"
                )
            if "error" in r:
                print(f"(b) {r['replicas']} replica(s): failed: {r['error'][-300:]}")
    if "c" in report:
        c = report["c"]
        print(
            f"(c) sweep of {c['runs']} runs: one GPU {c['one_gpu'].get('elapsed_s')} s, all "
            f"{c['all_gpus'].get('elapsed_s')} s, speed-up {c['speedup']}"
        )


if __name__ == "__main__":
    sys.exit(main())
