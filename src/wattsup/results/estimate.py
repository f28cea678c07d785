"""How long a run will take, said before it starts: from the latest ``ok`` run of the same model on the
same task, device, dtype and batch size in the store (its load time and its inference rate), scaled to this
run's warm-up, ``n`` and repetitions. Nothing is guessed where no such run exists: the estimate is None."""

from __future__ import annotations

from dataclasses import dataclass

from wattsup.records import RunConfig, RunRecord
from wattsup.results.store import RunFilter, Store


@dataclass(frozen=True)
class Estimate:
    seconds: float
    basis: str
    """What it is based on, for people."""


def _same_setup(a: RunConfig, b: RunConfig) -> bool:
    keys = ("task", "model", "weights", "device", "dtype", "batch_size", "mode", "max_new_tokens")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


def from_record(config: RunConfig, earlier: RunRecord) -> Estimate | None:
    """This configuration's duration, at the rate ``earlier`` ran (None if it measured no inference)."""
    inferences = sum(r.inferences for r in earlier.repetitions)
    busy_s = sum(r.measurement.duration_s for r in earlier.repetitions)
    if inferences <= 0 or busy_s <= 0:
        return None
    per_inference_s = busy_s / inferences
    load_s = earlier.load.duration_s if earlier.load is not None else 0.0
    seconds = load_s + per_inference_s * (config.warmup + config.n * config.reps)
    return Estimate(
        seconds,
        f"run {earlier.run_id[:12]} of this model here: {1 / per_inference_s:.3g} inferences/s, "
        f"{load_s:.3g} s to load",
    )


def estimate(config: RunConfig, store: Store, *, look_at: int = 20) -> Estimate | None:
    """The estimate for ``config`` from ``store``, or None where it holds no run of the same setup."""
    rows = store.list_runs(
        RunFilter(task=config.task, model=config.model, device=config.device, status="ok"), limit=look_at
    )
    for row in rows:
        record = store.get(row.run_id)
        if _same_setup(record.config, config):
            found = from_record(config, record)
            if found is not None:
                return found
    return None


def say_duration(seconds: float) -> str:
    """``42 s``, ``3 min 20 s``, ``2 h 05 min``."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"
