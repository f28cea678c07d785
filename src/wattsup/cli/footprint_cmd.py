"""``wattsup footprint``: the life-cycle carbon of training and/or inference. Its options are generated
from :class:`wattsup.carbon.FootprintInput` (one per field, checked by the model); the command adds only
what is not an input of the computation: ``--energy-kwh`` (another name for the training energy), the
``--profile`` file, ``--deadline``, ``--what-if`` scenarios and ``--json``."""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from wattsup.carbon.inputs import FootprintInput
from wattsup.cli.footprint_text import print_footprint
from wattsup.cli.params import bind
from wattsup.errors import InvalidInput
from wattsup.params import build, flag_of

MAX_GPU_POWER_W = 2000.0
"""A bound above any GPU's power, for checking that hardware time x power cannot overflow."""

WHAT_IF_KEYS = {
    "region": "region",
    "intensity": "intensity_g_per_kwh",
    "pue": "pue",
    "utilization": "utilization",
    "utilisation": "utilization",
    "lifetime": "lifetime_years",
    "lifetime-years": "lifetime_years",
    "gpu": "gpu",
    "speedup": "speedup",
    "deadline": "deadline",
}


def _when(flag: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    from wattsup.carbon.profile import parse_timestamp

    return parse_timestamp(value, flag)


def _read_profile(path: Path | None) -> Any:
    if path is None:
        return None
    from wattsup.carbon import parse_profile

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InvalidInput("--profile", f"cannot read {str(path)!r}: {err.strerror or err}") from None
    return parse_profile(text, source=f"profile {path.name}")


def _parse_what_if(spec: str) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in WHAT_IF_KEYS:
            raise InvalidInput(
                "--what-if",
                f"cannot read {part!r}; use KEY=VALUE with KEY in {', '.join(sorted(set(WHAT_IF_KEYS)))}",
            )
        name = WHAT_IF_KEYS[key]
        value = value.strip()
        if name in ("region", "gpu"):
            changes[name] = value
        elif name == "deadline":
            changes[name] = _when("--what-if deadline", value)
        else:
            try:
                changes[name] = float(value)
            except ValueError:
                raise InvalidInput("--what-if", f"{key} must be a number, got {value!r}") from None
    if not changes:
        raise InvalidInput(
            "--what-if", "empty scenario; use e.g. --what-if region=SE or --what-if gpu=H100,speedup=2"
        )
    return changes


def _finite_product(factors: list[tuple[str, float | None]], what: str, scale: float = 1.0) -> None:
    """Refuse options whose product (``what``) overflows a float, naming those options, so the error
    blames what was given and not a figure derived from it."""
    given = [(flag, v) for flag, v in factors if v is not None]
    if len(given) < len(factors) or not given:
        return
    if not math.isfinite(scale * math.prod(v for _, v in given)):
        flags = " x ".join(f"{flag} {v:g}" for flag, v in given)
        raise InvalidInput(
            "/".join(flag for flag, _ in given),
            f"{what} ({flags}) is too large to compute; give realistic values",
        )


def _numbers(x: Any) -> list[float]:
    if isinstance(x, dict):
        return [v for item in x.values() for v in _numbers(item)]
    if isinstance(x, list):
        return [v for item in x for v in _numbers(item)]
    return [x] if isinstance(x, float) else []


def _given(inp: FootprintInput, energy_flag: str) -> list[tuple[str, float]]:
    """The numbers given, with their flags: the training energy first, under the flag the user gave."""
    out = [(energy_flag, inp.training_kwh)] if inp.training_kwh is not None else []
    for name, value in inp:
        if isinstance(value, float) and name != "training_kwh" and (value or name != "finetune_kwh"):
            out.append((flag_of(FootprintInput, name), value))
    return out


def _check_overflow(inp: FootprintInput, energy_flag: str) -> None:
    """Refuse inputs whose products overflow a float before computing, naming what was given."""
    if inp.training_kwh is not None and not math.isfinite(inp.training_kwh + inp.finetune_kwh):
        raise InvalidInput(
            f"{energy_flag}/--finetune-kwh",
            f"their sum ({inp.training_kwh:g} + {inp.finetune_kwh:g} kWh) is too large to compute; "
            "give realistic values",
        )
    deployment = [("--kwh-per-1k", inp.kwh_per_1k), ("--queries-per-day", inp.queries_per_day)]
    _finite_product([*deployment, ("--years", inp.years)], "the deployment's energy", scale=365.25 / 1000)
    power = MAX_GPU_POWER_W
    _finite_product([("--gpu-hours", inp.training_gpu_hours)], "the training's energy", scale=power)
    hours = [("--hours", inp.training_hours), ("--gpus", float(inp.gpus))]
    _finite_product(hours, "the training's GPU-hours x power", scale=power)
    _finite_product(
        [("--inference-gpu-hours", inp.inference_gpu_hours)], "the inferences' energy", scale=power
    )


def _check_figures(data: Any, given: list[tuple[str, float]]) -> None:
    """Refuse a result with a figure that overflowed, naming the numeric options given."""
    if all(math.isfinite(v) for v in _numbers(data)):
        return
    shown = ", ".join(f"{flag} {v:g}" for flag, v in given)
    raise InvalidInput(
        "/".join(flag for flag, _ in given) or "footprint",
        f"the footprint of these inputs ({shown}) is too large to compute; give realistic values",
    )


def _scenario_json(s: Any) -> dict[str, Any]:
    return {
        "label": s.label,
        "changes": s.changes,
        "operational_kgco2e": s.footprint.operational_kgco2e,
        "embodied_kgco2e": s.footprint.embodied_kgco2e,
        "construction_kgco2e": s.footprint.construction_kgco2e,
        "water_l": s.footprint.water_l,
        "total_kgco2e": s.total_kgco2e,
        "delta_kgco2e": s.delta_kgco2e,
        "delta_fraction": s.delta_fraction,
        "basis": s.basis,
        "window": [w.isoformat() for w in s.window] if s.window else None,
    }


def _input(
    values: dict[str, Any], energy_kwh: float | None, profile: Path | None
) -> tuple[FootprintInput, str]:
    """The input from the generated options plus ``--energy-kwh`` and the ``--profile`` file."""
    rename: dict[str, str] = {}
    if energy_kwh is not None:
        if "training_kwh" in values:
            raise InvalidInput(
                "--training-kwh", "give the training energy once: --energy-kwh or --training-kwh"
            )
        values["training_kwh"] = energy_kwh
        rename["--training-kwh"] = "--energy-kwh"
    values["profile"] = _read_profile(profile)
    inp: FootprintInput = build(FootprintInput, values, rename)
    return inp, rename.get("--training-kwh", "--training-kwh")


@bind("values", FootprintInput, values=True)
def footprint_cmd(
    energy_kwh: float | None = typer.Option(
        None, "--energy-kwh", help="Measured energy of the job (training), kWh."
    ),
    values: dict[str, Any] | None = None,
    profile: Path | None = typer.Option(
        None, "--profile", help="CSV 'timestamp,g_per_kwh' for time-resolved training."
    ),
    deadline: str | None = typer.Option(
        None, "--deadline", help="Deadline (ISO 8601): add the best window before it."
    ),
    what_if: list[str] | None = typer.Option(
        None,
        "--what-if",
        help="Scenario KEY=VALUE[,KEY=VALUE]: region, intensity, pue, utilization, lifetime, gpu, speedup.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Life-cycle carbon of training and/or inference: operational and embodied, with the assumptions used."""
    from wattsup.carbon import footprint
    from wattsup.carbon import what_if as run_what_if

    inp, energy_flag = _input(dict(values or {}), energy_kwh, profile)
    _check_overflow(inp, energy_flag)
    result = footprint(inp)
    _check_figures(result.to_dict(), _given(inp, energy_flag))
    scenarios = [run_what_if(inp, base=result, **_parse_what_if(s)) for s in what_if or []]
    d = _when("--deadline", deadline)
    if d is not None:
        scenarios.append(
            run_what_if(inp, base=result, label=f"best window before {d.isoformat()}", deadline=d)
        )
    if as_json:
        out = result.to_dict()
        if scenarios:
            out["what_if"] = [_scenario_json(s) for s in scenarios]
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return
    print_footprint(result, scenarios)
