"""The library surface of wattsup bench: build a validated configuration, run it (isolated by default),
and turn its record into the figures people read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wattsup.bench.inputs import find_profile, load_profiles
from wattsup.bench.models import resolve_model_source
from wattsup.bench.tasks import get_task_info
from wattsup.bench.tasks.zero_shot import FIELDS as ZERO_SHOT_FIELDS
from wattsup.errors import InvalidInput, NotFound
from wattsup.results.schema import RunConfig, RunRecord


def validate(config: RunConfig) -> None:
    """Fail fast, before any process starts: unknown task, model or dataset (NotFound, with close matches);
    a model that does not fit the task, a dataset without a field the task needs (InvalidInput)."""
    info = get_task_info(config.task)
    resolve_model_source(config.model, info.name, config.weights)
    fields = ZERO_SHOT_FIELDS[info.name] if config.mode == "zero-shot" else info.fields
    ds = config.dataset
    if ds.startswith("hub:") or Path(ds).expanduser().exists():
        return
    profile = find_profile(ds)
    if profile is None:
        raise NotFound(
            "dataset",
            ds,
            list(load_profiles()),
            hint="Give a profile name ('wattsup tasks' lists them), a local path, or hub:ID.",
        )
    missing = [f for f in fields if f not in profile.fields]
    if missing:
        raise InvalidInput(
            "dataset",
            f"{profile.name!r} has no {', '.join(repr(m) for m in missing)} field, "
            f"which task {info.name!r} needs; profiles for it: "
            f"{', '.join(p.name for p in load_profiles().values() if info.name in p.tasks)}",
        )


def make_config(
    task: str,
    model: str,
    dataset: str | None = None,
    *,
    n: int = 1000,
    batch_size: int = 1,
    reps: int = 3,
    warmup: int = 10,
    weights: str = "pretrained",
    device: str = "cpu",
    dtype: str = "float32",
    seed: int = 0,
    max_new_tokens: int | None = None,
    zero_shot: bool = False,
    extra: dict[str, Any] | None = None,
) -> RunConfig:
    """A normalised, validated RunConfig (task aliases resolved, defaults filled in)."""
    from wattsup.bench.protocol import normalise

    cfg = RunConfig.model_validate(
        dict(
            task=task,
            model=model,
            dataset=dataset or "",
            n=n,
            batch_size=batch_size,
            reps=reps,
            warmup=warmup,
            weights=weights,
            device=device,
            dtype=dtype,
            seed=seed,
            max_new_tokens=max_new_tokens,
            mode="zero-shot" if zero_shot else "task-specific",
            extra=extra or {},
        )
    )
    cfg = normalise(cfg)
    validate(cfg)
    return cfg


def run(config: RunConfig, *, isolated: bool = True, timeout_s: float | None = None) -> RunRecord:
    """Run ``config``: in a subprocess of its own (default; failures become failed records) or here."""
    if isolated:
        from wattsup.bench.runner import run_isolated

        return run_isolated(config, timeout_s=timeout_s)
    from wattsup.bench.protocol import execute

    return execute(config)


def record_json(record: RunRecord) -> dict[str, Any]:
    """The JSON people and scripts read: identity, source, and the derived figures (means with 95% intervals
    across repetitions; GPU figures null where no GPU was metered)."""
    from wattsup.bench.stats import summarize

    cfg = record.config
    info = get_task_info(cfg.task)
    out: dict[str, Any] = {
        "run_id": record.run_id,
        "status": record.status,
        "error": record.error,
        "task": cfg.task,
        "mode": cfg.mode,
        "model": cfg.model,
        "dataset": cfg.dataset,
        "n": cfg.n,
        "batch_size": cfg.batch_size,
        "reps": cfg.reps,
        "weights": cfg.weights,
        "device": cfg.device,
        "dtype": cfg.dtype,
        "max_new_tokens": cfg.max_new_tokens,
        "config_hash": cfg.config_hash(),
        "input_source": record.provenance.input_source,
        "weights_source": record.provenance.weights_source,
        "energy_kwh_per_1k": None,
        "gpu_energy_kwh_per_1k": None,
        "phases": {},
    }
    if not record.repetitions:
        return out
    s = summarize(record, info.unit)

    def est(e: Any) -> Any:
        return (
            None
            if e is None
            else {"mean": e.mean, "ci95": [e.ci95_low, e.ci95_high], "per_rep": list(e.values)}
        )

    out.update(
        {
            "energy_kwh_per_1k": s.energy_kwh_per_1k.mean,
            "energy_kwh_per_1k_ci95": [s.energy_kwh_per_1k.ci95_low, s.energy_kwh_per_1k.ci95_high],
            "gpu_energy_kwh_per_1k": None
            if s.gpu_energy_kwh_per_1k is None
            else s.gpu_energy_kwh_per_1k.mean,
            "phases": {k: v.mean for k, v in s.phases_kwh_per_1k.items()},
            "unit": s.unit,
            "energy_j_per_unit": est(s.energy_j_per_unit),
            "latency_p50_s": est(s.latency_p50_s),
            "latency_p95_s": est(s.latency_p95_s),
            "throughput_per_s": est(s.throughput_per_s),
            "energy_kwh_per_1k_detail": est(s.energy_kwh_per_1k),
            "load_energy_kwh": None if record.load is None else record.load.total_energy_j / 3.6e6,
            "components": s.methods,
            "background_cpu_share": _mean_share(record),
            "partial": any(r.measurement.partial for r in record.repetitions),
            "warnings": run_warnings(record),
        }
    )
    return out


def _mean_share(record: RunRecord) -> float | None:
    shares = [r.measurement.background_cpu_share for r in record.repetitions]
    known = [x for x in shares if x is not None]
    return sum(known) / len(known) if known else None


def run_warnings(record: RunRecord) -> list[str]:
    """What the meter said of the run's windows (busy host, partial figures, late sensors), once each."""
    out: list[str] = []
    windows = ([record.load] if record.load is not None else []) + [r.measurement for r in record.repetitions]
    for m in windows:
        for w in m.warnings:
            if w not in out:
                out.append(w)
    return out
