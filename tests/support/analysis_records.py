"""Run records with chosen energies, for the analysis tests."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement
from wattsup.records import Provenance, Repetition, RunConfig, RunRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)
_ids = itertools.count()

A100 = "NVIDIA A100-SXM4-80GB"
H100 = "NVIDIA H100 80GB HBM3"


def _components(kwh: float, split: dict[str, tuple[float, str]]) -> list[ComponentEnergy]:
    """Components whose energies sum to ``kwh`` (per 1,000 inferences, for 1,000 inferences)."""
    return [
        ComponentEnergy(name=name, energy_j=kwh * share * JOULES_PER_KWH, method=method, error_bound_j=0.0)  # type: ignore[arg-type]
        for name, (share, method) in split.items()
    ]


GPU_ONLY = {"gpu:0": (1.0, "counter")}
MIXED = {"gpu:0": (0.6, "counter"), "cpu": (0.3, "modeled"), "ram": (0.1, "modeled")}


def record(
    task: str,
    model: str,
    kwh: float | list[float],
    *,
    dataset: str = "ds",
    mode: str = "task-specific",
    hardware: str | None = A100,
    n_params: int | None = None,
    phases: dict[str, float] | None = None,
    load_kwh: float | None = None,
    split: dict[str, tuple[float, str]] | None = None,
    output_units: int | None = None,
    n: int = 1000,
    status: str = "ok",
) -> RunRecord:
    """A run: one repetition per value of ``kwh`` (kWh per 1,000 inferences of the whole window); ``phases``
    are fractions of the window (name → share)."""
    values = [kwh] if isinstance(kwh, float | int) else list(kwh)
    comps = split or GPU_ONLY
    reps = []
    for i, v in enumerate(values):
        total = v * n / 1000.0
        subs = [
            Measurement(name=name, start_s=0.0, duration_s=1.0, components=_components(total * share, comps))
            for name, share in (phases or {}).items()
        ]
        m = Measurement(start_s=0.0, duration_s=10.0, components=_components(total, comps), phases=subs)
        reps.append(Repetition(index=i, measurement=m, inferences=n, output_units=output_units))
    k = next(_ids)
    return RunRecord(
        run_id=f"{k:06d}{uuid.uuid4().hex}",
        config=RunConfig(
            task=task,
            model=model,
            dataset=dataset,
            mode=mode,
            n=n,
            reps=len(values),  # type: ignore[arg-type]
            device="cuda:0" if hardware and "NVIDIA" in hardware else "cpu",
            seed=k,
        ),
        status=status,  # type: ignore[arg-type]
        error=None if status == "ok" else "boom",
        started_at=T0 + timedelta(minutes=k),
        load=Measurement(name="load", start_s=0.0, duration_s=1.0, components=_components(load_kwh, comps))
        if load_kwh is not None
        else None,
        repetitions=reps if status == "ok" else [],
        provenance=Provenance(
            gpus=[hardware] if hardware and "NVIDIA" in hardware else [],
            cpu_model=hardware if hardware and "NVIDIA" not in hardware else "",
        ),
        n_params=n_params,
    )
