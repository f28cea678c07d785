"""The library surface of wattsup bench: build a validated configuration, run it (isolated by default),
and turn its record into the figures people read."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from wattsup.bench.inputs import find_profile, local_path, profile_for
from wattsup.bench.models import check_local_tokenizer, resolve_model_source
from wattsup.bench.tasks import get_task_info, task_class
from wattsup.bench.tasks.zero_shot import FIELDS as ZERO_SHOT_FIELDS
from wattsup.errors import InvalidInput, WattsupError, shorten
from wattsup.params import ParamModel, param
from wattsup.records import RunConfig, RunRecord, checked_config

DTYPES = ("float32", "float16", "bfloat16")
DEVICE = re.compile(r"cpu|cuda(:[0-9]+)?")
NO_TOKENIZER_TASKS = ("image-classification", "object-detection", "text-to-image")
"""Tasks whose models take no tokenizer (an image processor, or a diffusers pipeline of its own)."""
MAX_N = 1_000_000
"""Inferences per repetition at most (the study's protocol is 1,000)."""
MAX_REPS = 1_000
MAX_WARMUP = 100_000
LOAD_ALLOWANCE_S = 1800.0
PER_INFERENCE_ALLOWANCE_S = 60.0


class RunOptions(ParamModel):
    """How a run measures, besides its task, model and dataset: the options of ``wattsup bench`` (and,
    as overrides of a suite's, ``wattsup suite``), declared once. The settings no single field can check
    (dtype and device names, the largest n and reps) are :func:`check_options`'s, which every
    configuration passes, whatever made it."""

    range_errors: ClassVar[bool] = True

    n: int = param(1000, "Inferences per repetition.", flag="-n", ge=1)
    batch_size: int = param(1, "Inferences per forward pass.", ge=1)
    reps: int = param(3, "Metered repetitions.", ge=1)
    warmup: int = param(10, "Unmetered inferences first.", ge=0)
    weights: Literal["pretrained", "random"] = param(
        "pretrained", "pretrained or random (catalog architecture, no download)."
    )
    device: str = param("cpu", "cpu, cuda or cuda:N.")
    dtype: str = param("float32", "float32, float16 or bfloat16.")
    seed: int = param(0, "Seed of every random generator of the run (inputs, random weights).")
    max_new_tokens: int | None = param(
        None, "Fixed output length (min = max, EOS off). Default: the task's.", ge=1
    )
    zero_shot: bool = param(
        False, "Prompt a multi-purpose model for the task (automatic for catalog multi-purpose models)."
    )
    timeout: float | None = param(
        None,
        "Seconds before the run is stopped.",
        unit="s",
        gt=0,
    )


class DeviceUnavailable(WattsupError):
    """The device asked for is not usable here (no CUDA build of torch, no GPU, index out of range)."""

    exit_code = 2


def check_options(config: RunConfig) -> None:
    """The run's settings that need no model nor dataset: dtype, device syntax, bounds on n, reps, warm-up."""
    if config.dtype not in DTYPES:
        raise InvalidInput("--dtype", f"must be one of {', '.join(DTYPES)}, got {config.dtype!r}")
    if DEVICE.fullmatch(config.device) is None:
        raise InvalidInput("--device", f"must be cpu, cuda or cuda:N (N a GPU index), got {config.device!r}")
    for flag, value, most in (("-n", config.n, MAX_N), ("--reps", config.reps, MAX_REPS)):
        if value > most:
            raise InvalidInput(flag, f"must be at most {most:,}, got {value:,}")
    if config.warmup > MAX_WARMUP:
        raise InvalidInput("--warmup", f"must be at most {MAX_WARMUP:,}, got {config.warmup:,}")


def check_device(device: str) -> None:
    """Refuse a CUDA device that torch cannot use here, before anything runs (imports torch for ``cuda``
    only; this process never forks runs, so asking torch does not stand in their way)."""
    if not device.startswith("cuda"):
        return
    try:
        import torch
    except ImportError as e:
        raise DeviceUnavailable(f"--device {device}: torch is not installed ({e})") from None
    if not torch.cuda.is_available():
        why = (
            f"this torch ({torch.__version__}) is built without CUDA"
            if torch.version.cuda is None
            else "torch sees no CUDA GPU (no GPU, no driver, or CUDA_VISIBLE_DEVICES hides them)"
        )
        raise DeviceUnavailable(
            f"--device {device}: {why}. Run on the CPU with --device cpu, or install a CUDA build of torch "
            "(https://pytorch.org/get-started/locally/) on a machine with an NVIDIA GPU."
        )
    index = int(device.partition(":")[2] or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise DeviceUnavailable(
            f"--device {device}: torch sees {count} GPU{'s' if count != 1 else ''} "
            f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''}); pick one of those"
        )


def check_timeout(value: float | None, flag: str = "--timeout") -> float | None:
    """A timeout in seconds: None (the default applies) or a finite number above zero."""
    if value is None:
        return None
    if math.isnan(value) or math.isinf(value) or value <= 0:
        raise InvalidInput(flag, f"must be a number of seconds above 0, got {value!r}")
    return float(value)


def default_timeout_s(config: RunConfig) -> float:
    """The time a run gets when no timeout is given: half an hour to load, then a minute per inference
    (warm-up and every repetition): generous, but a run that hangs is stopped."""
    return LOAD_ALLOWANCE_S + PER_INFERENCE_ALLOWANCE_S * (config.warmup + config.n * config.reps)


def validate(config: RunConfig, *, device_here: bool = True) -> None:
    """Fail fast, before any process starts: bad options (:func:`check_options`), unknown task, model or
    dataset (NotFound, with close matches); a model that does not fit the task, a dataset without a field
    the task needs, a local dataset that does not exist (InvalidInput); with ``device_here``, a CUDA device
    this machine cannot use (DeviceUnavailable)."""
    check_options(config)
    info = get_task_info(config.task)
    source = resolve_model_source(config.model, info.name, config.weights)
    _, backend = task_class(info.name, config.mode).settings_for(config)
    if info.name not in NO_TOKENIZER_TASKS:
        check_local_tokenizer(source, getattr(backend, "tokenizer", "model") == "synthetic")
    fields = ZERO_SHOT_FIELDS[info.name] if config.mode == "zero-shot" else info.fields
    ds = config.dataset
    if not ds.startswith("hub:") and local_path(ds) is None:
        profile = find_profile(ds)
        if profile is None and _looks_like_a_path(ds):
            raise InvalidInput(
                "dataset",
                f"{shorten(ds)} does not exist. Give an existing CSV, JSON Lines, Parquet or image file or "
                "folder, a profile name ('wattsup tasks' lists them), or hub:ID.",
            )
        profile_for(ds, info.name, fields)
    if device_here:
        check_device(config.device)


def _looks_like_a_path(name: str) -> bool:
    return "/" in name or "\\" in name or name.startswith(("~", ".")) or bool(Path(name[:255]).suffix)


def make_config(
    task: str,
    model: str,
    dataset: str | None = None,
    options: RunOptions | None = None,
    *,
    extra: dict[str, Any] | None = None,
    device_here: bool = True,
    **fields: Any,
) -> RunConfig:
    """A normalised, validated RunConfig (task aliases resolved, defaults filled in) from ``options``, or
    from ``fields`` (those of :class:`RunOptions`: ``n=10, weights="random"``, ...). ``extra``: the task's
    settings (:mod:`wattsup.records.settings`; its family's model is chosen from the task and mode).
    ``device_here``: check that this machine can use ``device`` (leave it off for a configuration meant for
    other machines)."""
    from wattsup.bench.protocol import normalise

    opts = options if options is not None else RunOptions(**fields)
    cfg = checked_config(
        dict(
            task=get_task_info(task).name,
            model=model,
            dataset=dataset or "",
            mode="zero-shot" if opts.zero_shot else "task-specific",
            extra=extra or {},
            **opts.model_dump(exclude={"zero_shot", "timeout"}),
        )
    )
    cfg = normalise(cfg)
    validate(cfg, device_here=device_here)
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
