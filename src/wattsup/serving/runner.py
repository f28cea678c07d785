"""Running a serving benchmark: build the engine, and for each load level open a Meter, drive the load,
close the steady-state phase, and turn the records into a :class:`LevelResult`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic.dataclasses import dataclass as pydantic_dataclass

from wattsup.errors import InvalidInput, WattsupError
from wattsup.meter import Measurement, Meter
from wattsup.params import checked, param
from wattsup.records import Provenance
from wattsup.serving.engines.base import ENGINES, Engine, EngineInfo
from wattsup.serving.lifecycle import CarbonOptions, IdleGpu, level_life_cycle, measure_gpu_idle
from wattsup.serving.load import STEADY_PHASE, LoadLevel, RequestRecord, Window
from wattsup.serving.metrics import level_result
from wattsup.serving.profiles import ServingRequest, get_profile, make_requests
from wattsup.serving.results import LevelResult, ServingResult
from wattsup.serving.utilisation import UtilisationSampler

__all__ = ["ServeConfig", "build_engine", "run_serving"]

Progress = Callable[[LoadLevel, int, int], None]
"""Called as requests complete: (level, completed so far, requests of the level)."""


@checked
@pydantic_dataclass(frozen=True)
class ServeConfig:
    """What ``wattsup serve`` runs, each field declared once with its bounds and flag; :meth:`validate`
    checks what depends on several fields (the engine's needs, the levels against the batch)."""

    range_errors: ClassVar[bool] = True

    levels: list[LoadLevel] = param(
        ..., "The load levels (the CLI reads --concurrency and --rate).", cli=False
    )
    engine: str = param(
        "static", "static (batching), continuous (batching), or http (a server).", flag=("--engine", "-e")
    )
    model: str | None = param(
        None, "Catalog name, local folder or Hub id; for http, the served model.", flag=("--model", "-m")
    )
    weights: str = param("random", "random (catalog architecture) or pretrained.")
    device: str = param("cpu", "cpu, cuda or cuda:N.")
    dtype: str = param("auto", "auto, float32, float16 or bfloat16.")
    profile: str = param("chat", "chat, summarisation or reasoning.")
    requests: int = param(64, "Requests per load level.", flag=("--requests", "-n"), ge=1)
    seed: int = param(0, "Seed of the drawn prompts and arrivals.")
    max_input_tokens: int | None = param(None, "Cap the profile's prompt lengths.", ge=1)
    max_output_tokens: int | None = param(None, "Cap the profile's output lengths.", ge=1)
    base_url: str | None = param(None, "http engine: the server, e.g. http://127.0.0.1:8000")
    api: str = param("completions", "http engine: completions or chat.")
    max_batch: int = param(256, "static engine: largest batch.", ge=1)
    replicas: int = param(
        1, "static engine: one copy of the model per GPU (--device cuda: cuda:0 ...).", ge=1
    )
    """Copies of the model, one per device (static engine): :mod:`wattsup.serving.engines.replicas`."""
    carbon: CarbonOptions = param(
        CarbonOptions(), "Where it ran and the life cycle's assumptions.", cli=False
    )
    idle_seconds: float = param(
        2.0, "GPU idle power metered for this long before the load.", unit="s", ge=0, le=60
    )

    def validate(self) -> None:
        if self.engine not in ENGINES:
            raise InvalidInput("engine", f"must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.engine == "http":
            if not self.base_url:
                raise InvalidInput(
                    "base-url", "the http engine needs the server's URL, e.g. http://127.0.0.1:8000"
                )
        elif not self.model:
            raise InvalidInput(
                "model", f"the {self.engine} engine needs --model (a catalog name such as tiny/gpt2)"
            )
        self.carbon.validate()
        if self.replicas != 1 and self.engine != "static":
            raise InvalidInput("replicas", f"must be 1 or more, with --engine static; got {self.replicas}")
        get_profile(self.profile)
        for level in self.levels:
            if self.engine == "static" and level.kind == "concurrency" and level.concurrency > self.max_batch:
                raise InvalidInput(
                    "concurrency", f"{level.label} is above --max-batch {self.max_batch}; raise --max-batch"
                )
            level.check_requests(self.requests)


def build_engine(cfg: ServeConfig) -> Engine:
    cfg.validate()
    if cfg.engine == "http":
        from wattsup.serving.engines.http import OpenAIHTTPEngine

        assert cfg.base_url is not None
        return OpenAIHTTPEngine(cfg.base_url, cfg.model, cfg.api)
    from wattsup.serving.engines.base import load_causal_lm

    assert cfg.model is not None
    if cfg.replicas > 1:
        from wattsup.serving.engines.replicas import ReplicaEngine, load_replicas

        lms = load_replicas(cfg.model, cfg.weights, cfg.device, cfg.dtype, cfg.replicas)
        return ReplicaEngine(lms, max_batch=cfg.max_batch)
    lm = load_causal_lm(cfg.model, cfg.weights, cfg.device, cfg.dtype)
    if cfg.engine == "static":
        from wattsup.serving.engines.static import StaticBatchingEngine

        return StaticBatchingEngine(lm, max_batch=cfg.max_batch)
    from wattsup.serving.engines.continuous import ContinuousBatchingEngine

    return ContinuousBatchingEngine(lm)


def _meter(info: EngineInfo) -> Meter:
    """The process tree's CPU for in-process engines; the machine's for a server in another process."""
    if info.cpu_scope == "process":
        return Meter(name="level")
    from wattsup.meter import meter as meter_mod

    try:
        meter_mod.scope_cpu_to_machine()
    except WattsupError:  # the shared sampler already runs, scoped to this process: meter from a thread
        from wattsup.meter import discover

        return Meter(name="level", sources=discover(pid=None))
    return Meter(name="level")


def provenance(info: EngineInfo, measurements: list[Measurement], profile_note: str) -> Provenance:
    import sys

    from wattsup.bench.protocol import host_provenance

    torch: Any = sys.modules.get("torch")
    sensors: dict[str, str] = {}
    for m in measurements:
        for c in m.components:
            sensors.setdefault(c.name, f"{c.method}: {c.detail}")
    prov = host_provenance(packages=("torch", "transformers", "tokenizers", "httpx", "numpy"))
    return prov.model_copy(
        update=dict(
            sensors=sensors,
            weights_source=info.weights_source,
            input_source=profile_note,
            torch_threads=int(torch.get_num_threads()) if torch is not None else None,
            cpu_scope=(
                "the whole machine (the server is another process)"
                if info.cpu_scope == "machine"
                else "this process tree (model in process)"
            ),
        )
    )


def _serve_level(
    cfg: ServeConfig,
    engine: Engine,
    level: LoadLevel,
    requests: list[ServingRequest],
    meter: Meter,
    progress: Progress | None,
) -> tuple[list[RequestRecord], Window]:
    """Drive one level's load inside ``meter``, opened before the load: ramp-up and drain are inside it,
    the steady span a phase."""

    def report(done: int) -> None:
        if progress is not None:
            progress(level, done, cfg.requests)

    with meter:
        window = Window(
            meter,
            level.ramp_requests(cfg.requests),
            thread_is_generator=engine.name == "http",
            on_progress=report,
        )
        records = engine.run_level(requests, level, window, cfg.seed)
        if window.is_open:
            window.close()
    return records, window


@dataclass(frozen=True)
class _Host:
    """What every level's life cycle shares: the GPU's measured idle power and the host's CPU."""

    idle: IdleGpu
    cpu_model: str | None


def _measure_level(
    cfg: ServeConfig,
    engine: Engine,
    level: LoadLevel,
    requests: list[ServingRequest],
    meter: Meter,
    host: _Host,
    progress: Progress | None,
) -> LevelResult:
    """One level served and metered: its figures and its requests' life cycle."""
    util = UtilisationSampler()
    util.start()
    try:
        records, window = _serve_level(cfg, engine, level, requests, meter, progress)
    finally:
        util.stop()
    measurement = meter.measurement
    assert measurement is not None
    lr = level_result(
        level,
        records,
        measurement,
        window,
        engine.info(),
        util.figure(window.opened_s, window.closed_s),
        list(measurement.warnings),
    )
    try:
        steady: Measurement | None = measurement.phase(STEADY_PHASE)
    except KeyError:
        steady = None
    lc, lc_note = level_life_cycle(
        steady,
        load=level.label,
        requests_completed=lr.window_requests_completed,
        output_tokens=lr.window_output_tokens,
        gpu_utilisation_pct=lr.gpu_utilisation_pct.value,
        idle=host.idle,
        host_cpu_model=host.cpu_model,
        options=cfg.carbon,
    )
    return lr.model_copy(update={"life_cycle": lc, "life_cycle_note": lc_note})


def _input_note(cfg: ServeConfig, profile: str) -> str:
    caps = [
        f"{k} ≤ {v}"
        for k, v in (("input", cfg.max_input_tokens), ("output", cfg.max_output_tokens))
        if v is not None
    ]
    return f"synthetic prompts from profile {profile!r} (seed {cfg.seed}" + (
        f"; capped: {', '.join(caps)})" if caps else ")"
    )


def run_serving(
    cfg: ServeConfig,
    engine: Engine | None = None,
    progress: Progress | None = None,
    make_meter: Callable[[EngineInfo], Meter] | None = None,
) -> ServingResult:
    """Serve every level of ``cfg`` with ``engine`` (built from ``cfg`` when not given) and measure it.
    ``make_meter`` builds each window's Meter (default: the shared sampler, scoped to the engine)."""
    new_meter = _meter if make_meter is None else make_meter
    cfg.validate()
    profile = get_profile(cfg.profile)
    requests = make_requests(
        profile,
        cfg.requests,
        cfg.seed,
        max_input_tokens=cfg.max_input_tokens,
        max_output_tokens=cfg.max_output_tokens,
    )
    own = engine is None
    engine = build_engine(cfg) if engine is None else engine
    try:
        info = engine.info()
        idle = measure_gpu_idle(cfg.idle_seconds, lambda: new_meter(info))
        from wattsup.sensors.models import cpu_model_name

        host = _Host(idle=idle, cpu_model=cpu_model_name())
        levels: list[LevelResult] = []
        measurements: list[Measurement] = []
        for level in cfg.levels:
            meter = new_meter(info)
            levels.append(_measure_level(cfg, engine, level, requests, meter, host, progress))
            assert meter.measurement is not None
            measurements.append(meter.measurement)
            info = engine.info()
    finally:
        if own:
            engine.close()
    return ServingResult(
        engine=info,
        profile=profile.name,
        profile_source=profile.source,
        seed=cfg.seed,
        requests_per_level=cfg.requests,
        max_input_tokens=cfg.max_input_tokens,
        max_output_tokens=cfg.max_output_tokens,
        levels=levels,
        provenance=provenance(info, measurements, _input_note(cfg, profile.name)),
        gpu_model=idle.name,
        gpu_idle_power_w=idle.power,
        carbon_options=cfg.carbon.as_dict(),
    )
