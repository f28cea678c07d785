"""Fill a results store with N synthetic runs through the bulk path (``Store.add_many``) and time it.

Each run is a whole record: 3 repetitions of a window with two phases (prefill, decode) over gpu:0, cpu
and ram, a model-load window and provenance, spread over tasks, models, hardware and batch sizes so
summaries have groups to aggregate; about 2% are failed runs. Used to build the million-run store that
the ``summary`` timing needs (``--n 1000000``); records are generated and written chunk by chunk, so
memory stays flat.

    .venv/bin/python benchmarks/store_bench.py --n 10000                # a temp SQLite file
    .venv/bin/python benchmarks/store_bench.py --n 1000000 --db runs-1m.db
    .venv/bin/python benchmarks/store_bench.py --n 10000 --db "$WATTSUP_TEST_PG_URL"
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import Provenance, Repetition, RunConfig, RunRecord
from wattsup.results import Store

TASKS = {
    "text-generation": ["HuggingFaceTB/SmolLM2-135M", "Qwen/Qwen2.5-0.5B", "meta-llama/Llama-3.2-1B"],
    "text-classification": ["distilbert-base-uncased-finetuned-sst-2-english", "roberta-base"],
    "image-classification": ["google/vit-base-patch16-224", "microsoft/resnet-50"],
    "summarization": ["facebook/bart-large-cnn", "google/flan-t5-base"],
    "speech-recognition": ["openai/whisper-tiny", "openai/whisper-small"],
}
HARDWARE = [("NVIDIA H100 80GB HBM3", 700.0), ("NVIDIA A100-SXM4-40GB", 400.0), ("NVIDIA L4", 72.0)]
CPU = "AMD EPYC 9454 48-Core Processor"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _components(rng: random.Random, gpu_w: float, seconds: float, gpu: bool) -> list[ComponentEnergy]:
    out = [
        ComponentEnergy(
            name="cpu", energy_j=rng.uniform(60, 120) * seconds, method="counter", error_bound_j=0.5
        ),
        ComponentEnergy(name="ram", energy_j=0.375 * 64 * seconds, method="modeled", error_bound_j=5.0),
    ]
    if gpu:
        e = gpu_w * rng.uniform(0.3, 0.9) * seconds
        out.insert(0, ComponentEnergy(name="gpu:0", energy_j=e, method="counter", error_bound_j=1.0))
    return out


def synthetic_record(i: int, rng: random.Random) -> RunRecord:
    task = rng.choice(list(TASKS))
    model = rng.choice(TASKS[task])
    gpu_name, gpu_w = rng.choice(HARDWARE)
    gpu = rng.random() > 0.1
    cfg = RunConfig(
        task=task,
        model=model,
        dataset="synthetic",
        n=1000,
        batch_size=rng.choice([1, 4, 16, 64]),
        reps=3,
        device="cuda:0" if gpu else "cpu",
        dtype=rng.choice(["float16", "bfloat16"]),
        seed=i % 7,
    )
    started = T0 + timedelta(seconds=i * 5)
    prov = Provenance(
        hostname=f"node-{i % 16:02d}",
        cpu_model=CPU,
        gpus=[gpu_name] if gpu else [],
        libraries={"torch": "2.13.0"},
        wattsup_version="0.1.0",
    )
    if rng.random() < 0.02:
        return RunRecord(
            run_id=uuid.UUID(int=rng.getrandbits(128)).hex,
            config=cfg,
            status="failed",
            error="RuntimeError: CUDA out of memory",
            started_at=started,
            provenance=prov,
        )
    reps = []
    for k in range(3):
        seconds = rng.uniform(5, 60)
        prefill = Measurement(
            name="prefill",
            start_s=0.0,
            duration_s=seconds * 0.1,
            components=_components(rng, gpu_w, seconds * 0.1, gpu),
        )
        decode = Measurement(
            name="decode",
            start_s=seconds * 0.1,
            duration_s=seconds * 0.9,
            components=_components(rng, gpu_w, seconds * 0.9, gpu),
        )
        window = Measurement(
            start_s=0.0,
            duration_s=seconds,
            components=_components(rng, gpu_w, seconds, gpu),
            phases=[prefill, decode],
        )
        reps.append(Repetition(index=k, measurement=window, inferences=1000, output_units=16000))
    load = Measurement(name="load", start_s=0.0, duration_s=3.0, components=_components(rng, gpu_w, 3.0, gpu))
    return RunRecord(
        run_id=uuid.UUID(int=rng.getrandbits(128)).hex,
        config=cfg,
        started_at=started,
        finished_at=started + timedelta(seconds=200),
        load=load,
        repetitions=reps,
        provenance=prov,
        n_params=rng.choice([135_000_000, 494_000_000, 1_240_000_000]),
    )


def records(n: int, seed: int) -> Iterator[RunRecord]:
    rng = random.Random(seed)
    for i in range(n):
        yield synthetic_record(i, rng)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000, help="runs to insert (default 10000)")
    ap.add_argument("--db", default=None, help="store URL or path (default: a new temp SQLite file)")
    ap.add_argument("--chunk", type=int, default=1000, help="records per transaction (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="random seed; another seed gives other run ids")
    args = ap.parse_args(argv)

    tmp = None
    db = args.db
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="wattsup-store-bench-")
        db = str(Path(tmp.name) / "runs.db")
    try:
        with Store.open(db) as store:
            before = store.count()
            t0 = time.perf_counter()
            added = store.add_many(records(args.n, args.seed), chunk_size=args.chunk)
            elapsed = time.perf_counter() - t0
            t1 = time.perf_counter()
            total = store.count()
            count_s = time.perf_counter() - t1
            result = {
                "store": store.location,
                "dialect": store.dialect,
                "n": args.n,
                "added": added,
                "runs_before": before,
                "runs_after": total,
                "insert_s": round(elapsed, 3),
                "runs_per_s": round(args.n / elapsed, 1) if elapsed > 0 else None,
                "count_s": round(count_s, 4),
            }
        print(json.dumps(result, indent=2))
        if total != before + added:
            print("store_bench: count does not match what was added", file=sys.stderr)
            return 1
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
