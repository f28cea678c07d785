"""Fakes for the sweep's GPU slots: a record metered on the GPU a run was given, and a worker entry whose runs
wait for each other (so a test sees them overlap without any timing).

``rendezvous`` (entry ``tests.fakes.slot_entries:rendezvous``) writes
``$WATTSUP_TEST_MARKERS/<config hash>`` with the
``CUDA_VISIBLE_DEVICES`` it inherited, then waits until ``$WATTSUP_TEST_RENDEZVOUS`` runs have written
theirs: runs that could not overlap would wait forever, and fail after ``$WATTSUP_TEST_WAIT_S`` seconds."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import Provenance, Repetition, RunConfig, RunRecord


def gpu_record(config: RunConfig, cuda_visible: str | None) -> RunRecord:
    """An ok record metered on the GPU ``cuda_visible`` names (``gpu:N``), or on the CPU alone."""
    started = datetime.now(UTC)
    comps = [ComponentEnergy(name="cpu", energy_j=3.6, method="modeled", error_bound_j=1.8)]
    if cuda_visible:
        comps.append(
            ComponentEnergy(name=f"gpu:{cuda_visible}", energy_j=36.0, method="counter", error_bound_j=0.1)
        )
    m = Measurement(name="inference", start_s=0.0, duration_s=1.0, components=comps)
    reps = [Repetition(index=i, measurement=m, inferences=config.n) for i in range(config.reps)]
    return RunRecord(
        config=config,
        repetitions=reps,
        provenance=Provenance(sensors={c.name: f"{c.method}: fake" for c in comps}),
        started_at=started,
        finished_at=datetime.now(UTC),
    )


def rendezvous(config: RunConfig) -> RunRecord:
    folder = Path(os.environ["WATTSUP_TEST_MARKERS"])
    cuda_visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    (folder / config.config_hash()).write_text(f"{cuda_visible}\n", encoding="utf-8")
    want = int(os.environ["WATTSUP_TEST_RENDEZVOUS"])
    deadline = time.monotonic() + float(os.environ.get("WATTSUP_TEST_WAIT_S", "120"))
    while len(list(folder.iterdir())) < want:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(list(folder.iterdir()))} of {want} runs ever ran at once")
        time.sleep(0.05)
    return gpu_record(config, cuda_visible)
