"""What a life-cycle footprint depends on, declared once: each field carries its bounds, unit, help text
and ``wattsup footprint`` flag. The command-line options and the dashboard's query parameters are generated
from these fields; the checks across fields (GPU or CPU server, training needs energy or hours, ...) are
the model's validator, whose errors name the flag."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import field_validator, model_validator

from wattsup.carbon._data import Bound
from wattsup.carbon.operational import MAX_IDLE_SHARE
from wattsup.carbon.profile import IntensityProfile, parse_timestamp
from wattsup.errors import InvalidInput
from wattsup.params import ParamModel, param

MAX_NAME = 512
"""The longest catalog or region name accepted."""


class FootprintInput(ParamModel):
    """Everything a footprint depends on. Construction checks every value (:class:`InvalidInput` naming
    the flag)."""

    # site
    region: str | None = param(
        None, "Grid region: FR, USA, US-CA, CAMX, CA-QC, aws:us-west-2, ...", max_length=MAX_NAME
    )
    intensity_g_per_kwh: float | None = param(
        None, "Grid intensity (instead of --region).", flag="--intensity", unit="gCO2e/kWh", ge=0
    )
    pue: float | None = param(None, "Power usage effectiveness (default: provider's, else 1.56).", ge=1)
    cfe_fraction: float | None = param(
        None, "Carbon-free-energy share for the market-based figure.", flag="--cfe", ge=0, le=1
    )
    market_intensity_g_per_kwh: float | None = param(
        None, "Contractual factor.", flag="--market-intensity", unit="gCO2e/kWh", ge=0
    )
    profile: IntensityProfile | None = param(
        None, "Time-resolved intensity for training (the CLI reads it from a CSV file).", cli=False
    )
    wue_l_per_kwh: float | None = param(
        None,
        "On-site water per kWh of IT energy (default: the provider's published WUE).",
        flag="--wue",
        unit="L/kWh",
        ge=0,
    )
    water_intensity_l_per_kwh: float | None = param(
        None,
        "Off-site water per kWh of electricity (default: the grid's).",
        flag="--water-intensity",
        unit="L/kWh",
        ge=0,
    )
    start: datetime | None = param(None, "Training start (ISO 8601), with --profile.")
    # hardware
    gpu: str | None = param(
        None, "GPU from the catalog (see 'wattsup hardware --list').", max_length=MAX_NAME
    )
    gpus: int = param(1, "Number of GPUs working at once.", ge=1)
    cpu: str | None = param(
        None, "CPU-only server: CPU from the catalog (EPYC-7763, XEON-8480+, ...).", max_length=MAX_NAME
    )
    cpus: int | None = param(None, "With --cpu: CPU sockets working at once (default 1).", ge=1)
    cpu_embodied_kg: float | None = param(None, "With --cpu: override per CPU.", unit="kgCO2e", ge=0)
    cpus_per_host: int | None = param(None, "With --cpu: CPU sockets per server (default 1).", ge=1)
    cpu_hours: float | None = param(
        None, "With --cpu: training hardware time.", unit="CPU-socket-hours", ge=0
    )
    inference_cpu_hours: float | None = param(
        None, "With --cpu: hardware time of the inferences (default: energy / power).", unit="h", ge=0
    )
    power_w: float | None = param(
        None, "Mean power per GPU, or per CPU with --cpu (default: its TDP).", unit="W", gt=0
    )
    embodied_bound: Bound = param("central", "Embodied value: low, central or high.")
    gpu_embodied_kg: float | None = param(None, "Override per GPU.", unit="kgCO2e", ge=0)
    host: str = param(
        "auto",
        "Host (server without GPUs): catalog name, 'auto' or 'none'.",
        min_length=1,
        max_length=MAX_NAME,
    )
    host_embodied_kg: float | None = param(None, "Override per host.", unit="kgCO2e", ge=0)
    gpus_per_host: int | None = param(None, "GPUs sharing one host.", ge=1)
    lifetime_years: float | None = param(None, "Hardware lifetime (default 5).", unit="years", gt=0)
    utilization: float | None = param(None, "Hardware utilisation in (0, 1] (default 0.85).", gt=0, le=1)
    construction_share: float | None = param(
        None, "Data-centre construction share of lifetime emissions (default 0.015).", ge=0, le=0.5
    )
    end_of_life_kg_per_gpu: float | None = param(
        None,
        "End of life per GPU, or per CPU with --cpu (default: not included).",
        flag="--eol-kg-per-gpu",
        unit="kgCO2e",
        ge=0,
    )
    network_share: float | None = param(
        None,
        "Network equipment (switches, interconnect) energy as a share of the servers' IT energy, added to "
        "it in every phase (default: not included).",
        ge=0,
        le=1,
    )
    # training
    training_kwh: float | None = param(None, "Training energy (same as --energy-kwh).", unit="kWh", ge=0)
    training_gpu_hours: float | None = param(
        None, "Training hardware time.", flag="--gpu-hours", unit="GPU-hours", ge=0
    )
    training_hours: float | None = param(
        None, "Training wall-clock hours (GPU-hours = --gpus x hours).", flag="--hours", unit="h", ge=0
    )
    finetune_kwh: float = param(0.0, "Fine-tuning energy, added to training.", unit="kWh", ge=0)
    idle_kwh: float | None = param(
        None, "Idle and infrastructure energy of the training allocation.", unit="kWh", ge=0
    )
    idle_share: float | None = param(
        None,
        "Idle and infrastructure share of the allocation's IT energy, in [0, 1) (every phase).",
        ge=0,
        le=MAX_IDLE_SHARE,
    )
    # inference
    kwh_per_1k: float | None = param(None, "Inference energy per 1,000 inferences.", unit="kWh", ge=0)
    queries_per_day: float | None = param(None, "Inferences per day.", ge=0)
    years: float | None = param(None, "Deployment duration.", unit="years", gt=0)
    inference_gpu_hours: float | None = param(
        None, "Hardware time of the inferences (default: energy / power).", unit="GPU-hours", ge=0
    )

    @field_validator("start", mode="before")
    @classmethod
    def _timestamp(cls, value: Any) -> Any:
        return parse_timestamp(value, "--start") if isinstance(value, str) else value

    @field_validator("embodied_bound", mode="before")
    @classmethod
    def _bound(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> FootprintInput:
        _check_device(self)
        _check_phases(self)
        return self

    @property
    def device(self) -> Literal["gpu", "cpu"]:
        """What does the work: GPUs (their host's CPUs are part of the host) or the CPUs of a CPU server."""
        return "cpu" if self.cpu is not None else "gpu"

    @property
    def devices(self) -> int:
        return (self.cpus or 1) if self.device == "cpu" else self.gpus

    @property
    def device_hours(self) -> float | None:
        return self.cpu_hours if self.device == "cpu" else self.training_gpu_hours

    @property
    def inference_device_hours(self) -> float | None:
        return self.inference_cpu_hours if self.device == "cpu" else self.inference_gpu_hours

    @property
    def has_training(self) -> bool:
        return any(
            v is not None
            for v in (self.training_kwh, self.training_gpu_hours, self.cpu_hours, self.training_hours)
        )

    @property
    def has_inference(self) -> bool:
        return any(
            v is not None
            for v in (
                self.kwh_per_1k,
                self.queries_per_day,
                self.years,
                self.inference_gpu_hours,
                self.inference_cpu_hours,
            )
        )


def _check_phases(inp: FootprintInput) -> None:
    """Checks across fields: what a training or a deployment needs, and values that exclude each other."""
    if inp.idle_kwh is not None and inp.idle_share is not None:
        raise InvalidInput("--idle-share", "give --idle-kwh (measured) or --idle-share, not both")
    if inp.idle_kwh is not None and not inp.has_training:
        raise InvalidInput(
            "--idle-kwh",
            "is the training allocation's idle energy: give the training energy too "
            "(for a deployment use --idle-share)",
        )
    if inp.region is not None and inp.intensity_g_per_kwh is not None:
        raise InvalidInput("--intensity", "give --region or --intensity, not both")
    if inp.device_hours is not None and inp.training_hours is not None:
        d = inp.device
        raise InvalidInput("--hours", f"give --{d}-hours or --hours (wall-clock, x --{d}s), not both")
    if not inp.has_training and not inp.has_inference:
        raise InvalidInput(
            "--energy-kwh",
            "nothing to assess: give training (--energy-kwh/--training-kwh or --gpu-hours) and/or inference "
            "(--kwh-per-1k with --queries-per-day and --years)",
        )
    if inp.has_inference:
        for flag, v in (
            ("--kwh-per-1k", inp.kwh_per_1k),
            ("--queries-per-day", inp.queries_per_day),
            ("--years", inp.years),
        ):
            if v is None:
                raise InvalidInput(
                    flag, "inference needs --kwh-per-1k, --queries-per-day and --years together"
                )
    if inp.finetune_kwh and not inp.has_training:
        raise InvalidInput(
            "--finetune-kwh", "fine-tuning is counted with training: give the training energy too"
        )
    if inp.profile is not None and inp.start is None:
        raise InvalidInput("--start", "an intensity profile needs the start time of the run (--start)")


def _check_device(inp: FootprintInput) -> None:
    """GPU flags and CPU flags describe different servers: refuse a mix with a line that says which."""
    if inp.cpu is not None and inp.gpu is not None:
        raise InvalidInput(
            "--cpu",
            "give --gpu (a GPU server: its CPUs are part of the host) or --cpu (a CPU-only server), not both",
        )
    if inp.cpu is None:
        cpu_flags = {
            "--cpus": inp.cpus,
            "--cpu-embodied-kg": inp.cpu_embodied_kg,
            "--cpus-per-host": inp.cpus_per_host,
            "--cpu-hours": inp.cpu_hours,
            "--inference-cpu-hours": inp.inference_cpu_hours,
        }
        for flag, v in cpu_flags.items():
            if v is not None:
                raise InvalidInput(flag, "describes a CPU-only server: give --cpu NAME too")
        return
    gpu_flags = {
        "--gpus": None if inp.gpus == 1 else inp.gpus,
        "--gpu-embodied-kg": inp.gpu_embodied_kg,
        "--gpus-per-host": inp.gpus_per_host,
        "--gpu-hours": inp.training_gpu_hours,
        "--inference-gpu-hours": inp.inference_gpu_hours,
    }
    for flag, v in gpu_flags.items():
        if v is not None:
            cpu_flag = flag.replace("gpu", "cpu")
            raise InvalidInput(flag, f"describes GPUs; with --cpu use {cpu_flag}")


def validate_input(inp: FootprintInput) -> None:
    """Check an input again (one made with ``model_construct`` skipped its checks); errors name the flag."""
    FootprintInput(**dict(inp))
