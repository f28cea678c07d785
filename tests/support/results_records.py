"""Full run records for the store tests (importable by worker processes, unlike conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import Provenance, Repetition, RunConfig, RunRecord
from wattsup.results import Store

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def components(scale: float = 1.0, *, gpu: bool = True) -> list[ComponentEnergy]:
    out = [
        ComponentEnergy(
            name="cpu", energy_j=40.0 * scale, method="counter", error_bound_j=0.5, detail="rapl"
        ),
        ComponentEnergy(
            name="dram", energy_j=6.0 * scale, method="counter", error_bound_j=0.25, detail="rapl"
        ),
        ComponentEnergy(
            name="ram", energy_j=4.0 * scale, method="modeled", error_bound_j=2.0, detail="0.375 W/GB"
        ),
    ]
    if gpu:
        out.insert(
            0,
            ComponentEnergy(
                name="gpu:0", energy_j=250.0 * scale, method="counter", error_bound_j=1.0, detail="nvml"
            ),
        )
    return out


def window(scale: float = 1.0, *, gpu: bool = True, timeline: bool = False) -> Measurement:
    """A repetition window with nested phases: generate (prefill, decode) then postprocess."""
    prefill = Measurement(
        name="prefill", start_s=10.0, duration_s=0.25, components=components(0.1 * scale, gpu=gpu)
    )
    decode = Measurement(
        name="decode", start_s=10.25, duration_s=1.5, components=components(0.7 * scale, gpu=gpu)
    )
    generate = Measurement(
        name="generate",
        start_s=10.0,
        duration_s=1.75,
        components=components(0.8 * scale, gpu=gpu),
        phases=[prefill, decode],
    )
    post = Measurement(
        name="postprocess", start_s=11.75, duration_s=0.25, components=components(0.2 * scale, gpu=gpu)
    )
    return Measurement(
        start_s=10.0,
        duration_s=2.0,
        components=components(scale, gpu=gpu),
        phases=[generate, post],
        timeline={"gpu:0": [(10.0, 0.0), (11.0, 120.5), (12.0, 250.0)]} if timeline else None,
    )


WINDOWS_PER_REP = 5  # the window, generate, prefill, decode, postprocess


def make_record(
    i: int = 0,
    *,
    run_id: str | None = None,
    task: str = "text-generation",
    model: str = "HuggingFaceTB/SmolLM2-135M",
    device: str = "cuda:0",
    status: str = "ok",
    reps: int = 3,
    started_at: datetime | None = None,
    gpu: bool = True,
    timeline: bool = False,
    load: bool = True,
    **config: Any,
) -> RunRecord:
    """A full record: config, ``reps`` repetitions with nested phases, a load window and provenance."""
    settings: dict[str, Any] = {
        "dataset": "wikitext-sample",
        "n": 100,
        "batch_size": 4,
        "max_new_tokens": 16,
        "seed": i,
        "extra": {"prompt_tokens": 32},
    }
    settings.update(config)
    cfg = RunConfig(task=task, model=model, device=device, reps=reps, **settings)
    fields: dict[str, Any] = {
        "config": cfg,
        "status": status,
        "error": "CUDA out of memory" if status == "failed" else None,
        "started_at": started_at or T0 + timedelta(seconds=i),
        "finished_at": (started_at or T0 + timedelta(seconds=i)) + timedelta(seconds=30),
        "load": window(0.5, gpu=gpu) if load and status == "ok" else None,
        "repetitions": [
            Repetition(
                index=k,
                measurement=window(1.0 + 0.1 * k, gpu=gpu, timeline=timeline),
                inferences=100,
                latencies_s=[0.02, 0.021, 0.019],
                output_units=1600,
            )
            for k in range(reps)
        ]
        if status == "ok"
        else [],
        "provenance": Provenance(
            hostname="bench-01",
            os="Linux 6.8",
            python="3.11.7",
            cpu_model="AMD EPYC 9454",
            cpu_count=96,
            ram_gb=512.0,
            gpus=["NVIDIA H100 80GB HBM3"] if gpu else [],
            gpu_driver="550.54" if gpu else None,
            cuda="12.4" if gpu else None,
            libraries={"torch": "2.13.0", "transformers": "4.50.0"},
            sensors={"gpu:0": "counter (nvml total energy)", "cpu": "counter (rapl)", "ram": "modeled"},
            weights_source="hub HuggingFaceTB/SmolLM2-135M@main",
            input_source="synthetic profile wikitext-sample (100 rows)",
            wattsup_version="0.1.0",
        ),
        "n_params": 134_515_008,
    }
    if run_id is not None:
        fields["run_id"] = run_id
    return RunRecord(**fields)


def phase_rows_per_record(reps: int = 3, *, gpu: bool = True, load: bool = True) -> int:
    return (reps + (1 if load else 0)) * WINDOWS_PER_REP * (4 if gpu else 3)


# -- worker processes (spawned: they import this module, not the test modules) ---------------------------


def write_records(url: str, worker: int, n: int, shared: int, start: Any) -> None:
    """Open the store and add ``n`` records of this worker one by one and in batches, plus the ``shared``
    records every worker adds (same run ids), all at once with the other workers (``start``: a barrier)."""
    start.wait()
    with Store.open(url) as store:
        own = [make_record(i, run_id=f"w{worker}-{i:04d}", model=f"model-{worker}") for i in range(n)]
        half = n // 2
        for r in own[:half]:
            store.add(r)
        store.add_many(own[half:], chunk_size=25)
        for j in range(shared):
            store.add(make_record(j, run_id=f"shared-{j:03d}", model="shared"))


SUITE: list[dict[str, Any]] = [{"model": f"suite-model-{k}", "batch_size": 1 + k % 4} for k in range(40)]
"""A sweep of configurations for the resume test."""


def suite_config(k: int) -> RunConfig:
    return make_record(0, **SUITE[k]).config


def run_suite(url: str, done: Any, delay_s: float, fail: set[int]) -> tuple[int, int]:
    """Run the suite as a runner would: skip completed configurations, store each run as it finishes,
    record failures. Returns (run, skipped)."""
    import time

    ran = skipped = 0
    with Store.open(url) as store:
        for k in range(len(SUITE)):
            cfg = suite_config(k)
            if store.has_completed(cfg):
                skipped += 1
                continue
            time.sleep(delay_s)
            if k in fail:
                store.record_failure(cfg, f"RuntimeError: configuration {k} crashed")
            else:
                store.add(make_record(0, **SUITE[k]))
            ran += 1
            if done is not None:
                with done.get_lock():
                    done.value += 1
    return ran, skipped
