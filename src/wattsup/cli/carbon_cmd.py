"""``wattsup footprint``, ``wattsup grid`` and ``wattsup hardware``: thin wrappers over
:mod:`wattsup.carbon`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from wattsup.cli import ui
from wattsup.errors import InvalidInput, finite_number

BOUND_CHOICES = ("low", "central", "high")
KG_PER_TONNE = 1000.0


def register(app: typer.Typer) -> None:
    app.command("footprint")(footprint_cmd)
    app.command("grid")(grid_cmd)
    app.command("hardware")(hardware_cmd)


# ---------------------------------------------------------------- helpers


def _num(flag: str, value: float | None, **bounds: Any) -> float | None:
    return None if value is None else finite_number(flag, value, **bounds)


MAX_GPU_POWER_W = 2000.0
"""A bound above any GPU's power, for checking that hardware time x power cannot overflow."""


def _finite_product(factors: list[tuple[str, float | None]], what: str, scale: float = 1.0) -> None:
    """Refuse options whose product (``what``) overflows a float, naming those options, so the error
    blames what was given and not a figure derived from it."""
    import math

    given = [(flag, v) for flag, v in factors if v is not None]
    if len(given) < len(factors) or not given:
        return
    product = scale * math.prod(v for _, v in given)
    if not math.isfinite(product):
        flags = " x ".join(f"{flag} {v:g}" for flag, v in given)
        raise InvalidInput(
            "/".join(flag for flag, _ in given),
            f"{what} ({flags}) is too large to compute; give realistic values",
        )


def _finite_figures(data: Any, inputs: list[tuple[str, float | None]]) -> None:
    """Refuse a result with a figure that overflowed, naming the numeric options given."""
    import math

    def numbers(x: Any) -> list[float]:
        if isinstance(x, dict):
            return [v for item in x.values() for v in numbers(item)]
        if isinstance(x, list):
            return [v for item in x for v in numbers(item)]
        return [x] if isinstance(x, float) else []

    if all(math.isfinite(v) for v in numbers(data)):
        return
    given = [(flag, v) for flag, v in inputs if v is not None]
    shown = ", ".join(f"{flag} {v:g}" for flag, v in given)
    raise InvalidInput(
        "/".join(flag for flag, _ in given) or "footprint",
        f"the footprint of these inputs ({shown}) is too large to compute; give realistic values",
    )


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _kg(v: float | None) -> str:
    if v is None:
        return "unknown"
    if abs(v) >= KG_PER_TONNE:
        return f"{v / KG_PER_TONNE:,.2f} t"
    if abs(v) >= 1:
        return f"{v:,.2f} kg"
    return f"{v * 1000:,.3g} g"


def _total(total: float | None, excluding_embodied: float) -> str:
    """A total, or, when embodied carbon is unknown, the known part labelled as excluding it."""
    return _kg(total) if total is not None else f"{_kg(excluding_embodied)} excl. embodied"


def _litres(v: float | None) -> str:
    if v is None:
        return "unknown"
    if abs(v) >= 1000:
        return f"{v / 1000:,.2f} m3"
    if abs(v) >= 1:
        return f"{v:,.2f} L"
    return f"{v * 1000:,.3g} mL"


def _big(v: float | None) -> str:
    if v is None:
        return "unknown"
    return f"{v:,.0f}" if v >= 1000 else f"{v:,.3g}"


def _bound(value: str) -> str:
    v = value.strip().lower()
    if v not in BOUND_CHOICES:
        raise InvalidInput("--embodied-bound", f"must be one of {', '.join(BOUND_CHOICES)}, got {value!r}")
    return v


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


# ---------------------------------------------------------------- footprint


def footprint_cmd(
    energy_kwh: float | None = typer.Option(
        None, "--energy-kwh", help="Measured energy of the job (training), kWh."
    ),
    training_kwh: float | None = typer.Option(
        None, "--training-kwh", help="Training energy, kWh (same as --energy-kwh)."
    ),
    finetune_kwh: float = typer.Option(
        0.0, "--finetune-kwh", help="Fine-tuning energy, added to training, kWh."
    ),
    idle_kwh: float | None = typer.Option(
        None, "--idle-kwh", help="Idle and infrastructure energy of the training allocation, kWh."
    ),
    idle_share: float | None = typer.Option(
        None,
        "--idle-share",
        help="Idle and infrastructure share of the allocation's IT energy, in [0, 1) (every phase).",
    ),
    gpu_hours: float | None = typer.Option(None, "--gpu-hours", help="Training hardware time in GPU-hours."),
    hours: float | None = typer.Option(
        None, "--hours", help="Training wall-clock hours (GPU-hours = --gpus x hours)."
    ),
    gpu: str | None = typer.Option(
        None, "--gpu", help="GPU from the catalog (see 'wattsup hardware --list')."
    ),
    gpus: int = typer.Option(1, "--gpus", help="Number of GPUs working at once."),
    cpu: str | None = typer.Option(
        None, "--cpu", help="CPU-only server: CPU from the catalog (EPYC-7763, XEON-8480+, ...)."
    ),
    cpus: int | None = typer.Option(None, "--cpus", help="With --cpu: CPU sockets working at once."),
    cpu_hours: float | None = typer.Option(
        None, "--cpu-hours", help="With --cpu: training hardware time in CPU-socket-hours."
    ),
    cpu_embodied_kg: float | None = typer.Option(
        None, "--cpu-embodied-kg", help="With --cpu: override, kgCO2e per CPU."
    ),
    cpus_per_host: int | None = typer.Option(
        None, "--cpus-per-host", help="With --cpu: CPU sockets per server (default 1)."
    ),
    inference_cpu_hours: float | None = typer.Option(
        None,
        "--inference-cpu-hours",
        help="With --cpu: hardware time of the inferences (default: energy / power).",
    ),
    power_w: float | None = typer.Option(
        None, "--power-w", help="Mean power per GPU, W (default: the GPU's TDP)."
    ),
    pue: float | None = typer.Option(
        None, "--pue", help="Power usage effectiveness (default: provider's, else 1.56)."
    ),
    region: str | None = typer.Option(
        None, "--region", help="FR, USA, US-CA, CAMX, CA-QC, aws:us-west-2, ..."
    ),
    intensity: float | None = typer.Option(
        None, "--intensity", help="Grid intensity, gCO2e/kWh (instead of --region)."
    ),
    cfe: float | None = typer.Option(
        None, "--cfe", help="Carbon-free-energy share for the market-based figure."
    ),
    market_intensity: float | None = typer.Option(
        None, "--market-intensity", help="Contractual factor, gCO2e/kWh."
    ),
    wue: float | None = typer.Option(
        None, "--wue", help="On-site water, L per kWh of IT energy (default: the provider's published WUE)."
    ),
    water_intensity: float | None = typer.Option(
        None, "--water-intensity", help="Off-site water, L per kWh of electricity (default: the grid's)."
    ),
    lifetime_years: float | None = typer.Option(
        None, "--lifetime-years", help="Hardware lifetime, years (default 5)."
    ),
    utilization: float | None = typer.Option(
        None, "--utilization", help="Hardware utilisation in (0, 1] (default 0.85)."
    ),
    embodied_bound: str = typer.Option(
        "central", "--embodied-bound", help="Embodied value: low, central or high."
    ),
    gpu_embodied_kg: float | None = typer.Option(None, "--gpu-embodied-kg", help="Override: kgCO2e per GPU."),
    host: str = typer.Option(
        "auto", "--host", help="Host (server without GPUs): catalog name, 'auto' or 'none'."
    ),
    host_embodied_kg: float | None = typer.Option(
        None, "--host-embodied-kg", help="Override: kgCO2e per host."
    ),
    gpus_per_host: int | None = typer.Option(None, "--gpus-per-host", help="GPUs sharing one host."),
    construction_share: float | None = typer.Option(
        None,
        "--construction-share",
        help="Data-centre construction share of lifetime emissions (default 0.015).",
    ),
    eol_kg_per_gpu: float | None = typer.Option(None, "--eol-kg-per-gpu", help="End-of-life kgCO2e per GPU."),
    kwh_per_1k: float | None = typer.Option(
        None, "--kwh-per-1k", help="Inference energy per 1,000 inferences, kWh."
    ),
    queries_per_day: float | None = typer.Option(None, "--queries-per-day", help="Inferences per day."),
    years: float | None = typer.Option(None, "--years", help="Deployment duration, years."),
    inference_gpu_hours: float | None = typer.Option(
        None, "--inference-gpu-hours", help="Hardware time of the inferences (default: energy / power)."
    ),
    profile: Path | None = typer.Option(
        None, "--profile", help="CSV 'timestamp,g_per_kwh' for time-resolved training."
    ),
    start: str | None = typer.Option(None, "--start", help="Training start (ISO 8601), with --profile."),
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
    from wattsup.carbon import FootprintInput, footprint
    from wattsup.carbon import what_if as run_what_if

    e = _num("--energy-kwh", energy_kwh, minimum=0)
    t = _num("--training-kwh", training_kwh, minimum=0)
    if e is not None and t is not None:
        raise InvalidInput("--training-kwh", "give the training energy once: --energy-kwh or --training-kwh")
    inp = FootprintInput(
        region=region,
        intensity_g_per_kwh=_num("--intensity", intensity, minimum=0),
        pue=_num("--pue", pue, minimum=1.0),
        cfe_fraction=_num("--cfe", cfe, minimum=0, maximum=1),
        market_intensity_g_per_kwh=_num("--market-intensity", market_intensity, minimum=0),
        wue_l_per_kwh=_num("--wue", wue, minimum=0),
        water_intensity_l_per_kwh=_num("--water-intensity", water_intensity, minimum=0),
        profile=_read_profile(profile),
        start=_when("--start", start),
        gpu=gpu,
        gpus=gpus,
        cpu=cpu,
        cpus=cpus,
        cpu_hours=_num("--cpu-hours", cpu_hours, minimum=0),
        cpu_embodied_kg=_num("--cpu-embodied-kg", cpu_embodied_kg, minimum=0),
        cpus_per_host=cpus_per_host,
        inference_cpu_hours=_num("--inference-cpu-hours", inference_cpu_hours, minimum=0),
        power_w=_num("--power-w", power_w, minimum=0, strict_min=True),
        embodied_bound=_bound(embodied_bound),  # type: ignore[arg-type]
        gpu_embodied_kg=_num("--gpu-embodied-kg", gpu_embodied_kg, minimum=0),
        host=host,
        host_embodied_kg=_num("--host-embodied-kg", host_embodied_kg, minimum=0),
        gpus_per_host=gpus_per_host,
        lifetime_years=_num("--lifetime-years", lifetime_years, minimum=0, strict_min=True),
        utilization=_num("--utilization", utilization, minimum=0, strict_min=True, maximum=1),
        construction_share=_num("--construction-share", construction_share, minimum=0, maximum=0.5),
        end_of_life_kg_per_gpu=_num("--eol-kg-per-gpu", eol_kg_per_gpu, minimum=0),
        training_kwh=e if e is not None else t,
        training_gpu_hours=_num("--gpu-hours", gpu_hours, minimum=0),
        training_hours=_num("--hours", hours, minimum=0),
        finetune_kwh=finite_number("--finetune-kwh", finetune_kwh, minimum=0),
        idle_kwh=_num("--idle-kwh", idle_kwh, minimum=0),
        idle_share=_num("--idle-share", idle_share, minimum=0),
        kwh_per_1k=_num("--kwh-per-1k", kwh_per_1k, minimum=0),
        queries_per_day=_num("--queries-per-day", queries_per_day, minimum=0),
        years=_num("--years", years, minimum=0, strict_min=True),
        inference_gpu_hours=_num("--inference-gpu-hours", inference_gpu_hours, minimum=0),
    )
    training = e if e is not None else t
    if training is not None and training + inp.finetune_kwh == float("inf"):
        raise InvalidInput(
            f"{'--energy-kwh' if e is not None else '--training-kwh'}/--finetune-kwh",
            f"their sum ({training:g} + {inp.finetune_kwh:g} kWh) is too large to compute; "
            "give realistic values",
        )
    _finite_product(
        [
            ("--kwh-per-1k", inp.kwh_per_1k),
            ("--queries-per-day", inp.queries_per_day),
            ("--years", inp.years),
        ],
        "the deployment's energy",
        scale=365.25 / 1000.0,
    )
    _finite_product([("--gpu-hours", inp.training_gpu_hours)], "the training's energy", scale=MAX_GPU_POWER_W)
    _finite_product(
        [("--hours", inp.training_hours), ("--gpus", float(gpus))],
        "the training's GPU-hours x power",
        scale=MAX_GPU_POWER_W,
    )
    _finite_product(
        [("--inference-gpu-hours", inp.inference_gpu_hours)], "the inferences' energy", scale=MAX_GPU_POWER_W
    )
    result = footprint(inp)
    numeric = [
        ("--energy-kwh", e),
        ("--training-kwh", t),
        ("--finetune-kwh", inp.finetune_kwh or None),
        ("--gpu-hours", inp.training_gpu_hours),
        ("--hours", inp.training_hours),
        ("--power-w", inp.power_w),
        ("--pue", inp.pue),
        ("--intensity", inp.intensity_g_per_kwh),
        ("--kwh-per-1k", inp.kwh_per_1k),
        ("--queries-per-day", inp.queries_per_day),
        ("--years", inp.years),
        ("--gpu-embodied-kg", inp.gpu_embodied_kg),
        ("--host-embodied-kg", inp.host_embodied_kg),
    ]
    _finite_figures(result.to_dict(), numeric)
    scenarios = [run_what_if(inp, base=result, **_parse_what_if(s)) for s in what_if or []]
    d = _when("--deadline", deadline)
    if d is not None:
        scenarios.append(
            run_what_if(inp, base=result, label=f"best window before {d.isoformat()}", deadline=d)
        )
    if as_json:
        out = result.to_dict()
        if scenarios:
            out["what_if"] = [
                {
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
                for s in scenarios
            ]
        _echo_json(out)
        return
    _print_footprint(result, scenarios)


def _print_footprint(result: Any, scenarios: list[Any]) -> None:
    from rich.table import Table

    con = ui.console(width=120, soft_wrap=True)
    t = Table(title="Life-cycle carbon (kgCO2e)", title_justify="left")
    cols = ("phase", "energy", "operational (location)", "operational (market)", "embodied", "construction")
    for col in (*cols, "total"):
        t.add_column(col, justify="left" if col == "phase" else "right")
    for p in (result.training, result.inference):
        if p is None:
            continue
        label = p.phase if p.inferences is None else f"{p.phase} ({_big(p.inferences)} inferences)"
        energy = f"{_big(p.energy_kwh)} kWh"
        if p.idle_energy_kwh is not None:
            energy += f" + {_big(p.idle_energy_kwh)} idle"
        t.add_row(
            label,
            energy,
            _kg(p.operational_kgco2e),
            _kg(p.operational_market_kgco2e),
            _kg(p.embodied_kgco2e),
            _kg(p.construction_kgco2e),
            _total(p.total_kgco2e, p.total_excluding_embodied_kgco2e),
        )
    t.add_row(
        "[b]all[/b]",
        "",
        f"[b]{_kg(result.operational_kgco2e)}[/b]",
        _kg(result.operational_market_kgco2e),
        f"[b]{_kg(result.embodied_kgco2e)}[/b]",
        f"[b]{_kg(result.construction_kgco2e)}[/b]",
        f"[b]{_total(result.total_kgco2e, result.total_excluding_embodied_kgco2e)}[/b]",
    )
    con.print(t)
    if result.total_kgco2e is None:
        con.print(
            "Embodied carbon is unknown (see the assumptions): totals shown "
            f"({_kg(result.total_excluding_embodied_kgco2e)}) exclude embodied."
        )
    if result.operational_idle_kgco2e is not None:
        con.print(
            f"Operational includes {_kg(result.operational_idle_kgco2e)} of idle and infrastructure energy."
        )
    con.print(
        f"Water: {_litres(result.water_l)} (on site {_litres(result.water_onsite_l)}, off site for the "
        f"electricity {_litres(result.water_offsite_l)})."
    )
    if result.parity_inferences is not None:
        days = f" ({_big(result.parity_days)} days of queries)" if result.parity_days is not None else ""
        con.print(
            "Cost parity: inference energy equals training after "
            f"{_big(result.parity_inferences)} inferences{days}."
        )
    a = result.assumptions
    at = Table(title="Assumptions", title_justify="left", show_header=False)
    at.add_column("what")
    at.add_column("value")
    at.add_column("source", overflow="fold")
    region = f"{a.region} ({a.region_name})" if a.region else "-"
    ci = "-" if a.intensity_g_per_kwh is None else f"{a.intensity_g_per_kwh:g} gCO2e/kWh"
    at.add_row("region", region, " > ".join(a.intensity_via))
    at.add_row("intensity", ci, a.intensity_source)
    mi = "-" if a.market_intensity_g_per_kwh is None else f"{a.market_intensity_g_per_kwh:.4g} gCO2e/kWh"
    at.add_row("market-based", mi, a.market_basis)
    at.add_row("PUE", f"{a.pue:g}", a.pue_source)
    wue = "unknown" if a.wue_l_per_kwh is None else f"{a.wue_l_per_kwh:g} L/kWh"
    at.add_row("water on site (WUE)", wue, a.wue_source)
    ewif = "unknown" if a.water_intensity_l_per_kwh is None else f"{a.water_intensity_l_per_kwh:g} L/kWh"
    at.add_row("water off site (grid)", ewif, a.water_intensity_source)
    cpu = a.device == "cpu"
    name, count = (a.cpu, a.cpus) if cpu else (a.gpu, a.gpus)
    label = "CPU" if cpu else "GPU"
    at.add_row(
        "hardware",
        f"{count} x {name}" if name else "-",
        f"power {'-' if a.power_w is None else format(a.power_w, 'g')} W per {label}: {a.power_basis}",
    )
    device_kg, device_source = (
        (a.cpu_embodied_kg, a.cpu_embodied_source)
        if cpu
        else (
            a.gpu_embodied_kg,
            a.gpu_embodied_source,
        )
    )
    at.add_row(f"embodied per {label} ({a.embodied_bound})", _kg(device_kg), device_source or "")
    per_host = a.cpus_per_host if cpu else a.gpus_per_host
    at.add_row(
        "host",
        f"{a.host or '-'}: {_kg(a.host_embodied_kg)} / {per_host or '-'} {label}s",
        a.host_embodied_source,
    )
    at.add_row("lifetime", f"{a.lifetime_years:g} years", a.lifetime_source)
    at.add_row("utilisation", f"{a.utilization:g}", a.utilization_source)
    at.add_row("idle", "", a.idle)
    at.add_row("construction", f"{a.construction_share:g} of site emissions", a.construction_source)
    at.add_row("end of life", "", a.end_of_life)
    if a.profile:
        at.add_row("profile", a.profile, "")
    con.print(at)
    for n in a.notes:
        con.print(f"note: {n}")
    if scenarios:
        st = Table(title="What if", title_justify="left")
        for col in ("scenario", "total", "change"):
            st.add_column(col, justify="left" if col == "scenario" else "right")
        for s in scenarios:
            if s.basis == "operational":
                total = _kg(s.footprint.operational_kgco2e)
            else:
                total = _total(s.total_kgco2e, s.footprint.total_excluding_embodied_kgco2e)
            change = "-" if s.delta_fraction is None else f"{s.delta_fraction:+.1%}"
            label = s.label + (" (operational only)" if s.basis == "operational" else "")
            if s.window:
                label += f" [{s.window[0]:%Y-%m-%d %H:%M}Z to {s.window[1]:%Y-%m-%d %H:%M}Z]"
            st.add_row(label, total, change)
        con.print(st)


# ---------------------------------------------------------------- grid


def grid_cmd(
    region: str | None = typer.Argument(
        None, help="Region code: FR, USA, US-CA, CAMX, CA-QC, aws:us-west-2, ..."
    ),
    list_all: bool = typer.Option(False, "--list", help="List every region the table knows."),
    kind: str | None = typer.Option(
        None, "--kind", help="With --list: country, egrid, us-state, ca-province, cloud."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Annual grid carbon intensity of a region, with its source, year and licence."""
    from wattsup.carbon import grid_intensity, list_regions

    if list_all or region is None:
        kinds = ("country", "aggregate", "egrid", "us-state", "ca-province", "cloud")
        if kind is not None and kind not in kinds:
            raise InvalidInput("--kind", f"must be one of {', '.join(kinds)}, got {kind!r}")
        rows = list_regions(kind)  # type: ignore[arg-type]
        if as_json:
            _echo_json([r.model_dump(mode="json") for r in rows])
            return
        from rich.table import Table

        t = Table(title=f"{len(rows)} regions", title_justify="left")
        for col in ("code", "name", "gCO2e/kWh", "year", "source"):
            t.add_column(col, overflow="fold")
        for r in rows:
            t.add_row(r.code, r.name, f"{r.intensity_g_per_kwh:g}", str(r.year), r.source)
        ui.console(width=120, soft_wrap=True).print(t)
        return
    g = grid_intensity(region)
    if as_json:
        _echo_json(g.model_dump(mode="json"))
        return
    con = ui.console(width=120, soft_wrap=True)
    con.print(
        f"[b]{g.code}[/b] {g.name}: [b]{g.intensity_g_per_kwh:g} gCO2e/kWh[/b] ({g.year}, location-based)"
    )
    if g.via:
        con.print(f"resolved via {' > '.join(g.via)}")
    con.print(f"source: {g.source}; licence: {g.licence}" + (f"; {g.url}" if g.url else ""))
    if g.cfe_fraction is not None:
        con.print(f"provider carbon-free energy: {g.cfe_fraction:.0%} ({g.cfe_source})")
    if g.notes:
        con.print(f"notes: {g.notes}")


# ---------------------------------------------------------------- hardware


def hardware_cmd(
    name: str | None = typer.Argument(
        None, help="Catalog item or server archetype (H100, 8xH100-SXM, EPYC-9654, ...)."
    ),
    list_all: bool = typer.Option(False, "--list", help="List the catalog."),
    dies: str | None = typer.Option(
        None, "--dies", help="Parametric estimate: AREA_MM2[xCOUNT]@NODE_NM[;...]."
    ),
    memory_gb: float = typer.Option(0.0, "--memory-gb", help="Parametric: memory on the package, GB."),
    memory_type: str = typer.Option("hbm", "--memory-type", help="Parametric: dram, hbm, gddr, ssd, hdd."),
    tdp_w: float | None = typer.Option(
        None, "--tdp-w", help="Parametric: add the board share for a GPU of this TDP."
    ),
    fab_intensity: float | None = typer.Option(
        None, "--fab-intensity", help="Parametric: fab grid, gCO2e/kWh."
    ),
    fab_yield: float | None = typer.Option(None, "--yield", help="Parametric: die yield in (0, 1]."),
    abatement: int = typer.Option(95, "--abatement", help="Parametric: fab gas abatement, 95 or 99 (%)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Embodied carbon of hardware: low, central and high values with sources, or a parametric estimate."""
    from wattsup.carbon import (
        FabParameters,
        HardwareItem,
        estimate_device,
        list_hardware,
        list_servers,
        lookup,
        parse_dies,
    )

    if dies is not None:
        if abatement not in (95, 99):
            raise InvalidInput("--abatement", f"must be 95 or 99, got {abatement}")
        fab_args: dict[str, Any] = {"abatement": abatement}
        if fab_intensity is not None:
            fab_args["fab_intensity_g_per_kwh"] = finite_number("--fab-intensity", fab_intensity, minimum=0)
        if fab_yield is not None:
            fab_args["yield_fraction"] = finite_number(
                "--yield", fab_yield, minimum=0, strict_min=True, maximum=1
            )
        est = estimate_device(
            parse_dies(dies),
            memory_gb=finite_number("--memory-gb", memory_gb, minimum=0),
            memory_type=memory_type,
            tdp_w=_num("--tdp-w", tdp_w, minimum=0),
            fab=FabParameters(**fab_args),
        )
        if as_json:
            _echo_json(est.model_dump(mode="json"))
            return
        con = ui.console(width=120, soft_wrap=True)
        con.print(f"[b]parametric estimate: {_kg(est.total_kg)}[/b] ({est.method})")
        con.print(
            f"dies {_kg(est.dies_kg)}, packaging {_kg(est.packaging_kg)}, memory {_kg(est.memory_kg)}, "
            f"board {_kg(est.board_kg) if est.board_kg is not None else 'not modelled (no --tdp-w)'}"
        )
        return
    if list_all or name is None:
        items = list_hardware()
        servers = list_servers()
        if as_json:
            _echo_json(
                {
                    "items": [i.model_dump(mode="json") for i in items],
                    "servers": [_server_dict(s) for s in servers],
                }
            )
            return
        from rich.table import Table

        t = Table(title="Embodied carbon catalog (kgCO2e per unit, or per GB)", title_justify="left")
        for col in ("name", "kind", "TDP W", "low", "central", "high", "spread"):
            t.add_column(col, justify="left" if col in ("name", "kind") else "right")
        for i in items:
            spread = "-" if i.spread is None else f"{i.spread:.1f}x"
            bounds = (
                [f"{i.low_kg:.4g}", f"{i.central_kg:.4g}", f"{i.high_kg:.4g}"]
                if i.embodied_known
                else ["unknown"] * 3
            )
            t.add_row(i.name, i.kind, "-" if i.tdp_w is None else f"{i.tdp_w:g}", *bounds, spread)
        for s in servers:
            lo, c, hi = (s.embodied_kg(b) for b in BOUND_CHOICES)  # type: ignore[arg-type]
            t.add_row(
                s.name,
                "server",
                "-" if s.tdp_w is None else f"{s.tdp_w:g}",
                f"{lo:.4g}",
                f"{c:.4g}",
                f"{hi:.4g}",
                f"{hi / lo:.1f}x",
            )
        ui.console(width=120, soft_wrap=True).print(t)
        return
    item = lookup(name)
    if as_json:
        _echo_json(item.model_dump(mode="json") if isinstance(item, HardwareItem) else _server_dict(item))
        return
    con = ui.console(width=120, soft_wrap=True)
    from rich.table import Table

    if isinstance(item, HardwareItem):
        per = " per GB" if item.unit == "GB" else ""
        spec = [f"kind {item.kind}"]
        if item.tdp_w is not None:
            spec.append(f"TDP {item.tdp_w:g} W")
        if item.memory_gb is not None:
            spec.append(f"{item.memory_gb:g} GB {item.memory_type or ''}".rstrip())
        con.print(
            f"[b]{item.name}[/b] ({', '.join(spec)})"
            + (f"; aliases: {', '.join(item.aliases)}" if item.aliases else "")
        )
        if not item.embodied_known:
            err = item.unknown_error()
            con.print(f"embodied carbon: [b]unknown[/b]: {err.reason}; {err.how}")
            if item.spec_source:
                con.print(f"specification: {item.spec_source}")
            if item.notes:
                con.print(f"notes: {item.notes}")
            return
        t = Table(title=f"Embodied carbon estimates (kgCO2e{per})", title_justify="left")
        for col in ("bound", "kgCO2e", "scope", "method", "source", "year", "licence"):
            t.add_column(col, overflow="fold")
        for e in item.estimates:
            t.add_row(
                e.bound + (" *" if e.derived else ""),
                f"{e.kgco2e:.4g}",
                e.scope,
                e.method,
                e.source,
                str(e.year),
                e.licence,
            )
        con.print(t)
        if item.spread is not None:
            con.print(
                f"spread high/low: {item.spread:.1f}x"
                + (
                    "   (* derived by a documented wattsup rule)"
                    if any(e.derived for e in item.estimates)
                    else ""
                )
            )
        if item.spec_source:
            con.print(f"specification: {item.spec_source}")
        if item.notes:
            con.print(f"notes: {item.notes}")
        return
    lo, c, hi = (item.embodied_kg(b) for b in BOUND_CHOICES)  # type: ignore[arg-type]
    con.print(f"[b]{item.name}[/b]: {item.gpu_count} x {item.gpu.name} + {item.host.name}")
    con.print(f"embodied: low {_kg(lo)}, central {_kg(c)}, high {_kg(hi)} (spread {hi / lo:.1f}x)")
    con.print(f"GPU central {_kg(item.gpu.central_kg)} each: {item.gpu.estimate('central').source}")
    con.print(f"host central {_kg(item.host.central_kg)}: {item.host.estimate('central').source}")
    con.print(f"source: {item.source} ({item.year}); licence: {item.licence}")
    if item.notes:
        con.print(f"notes: {item.notes}")


def _server_dict(s: Any) -> dict[str, Any]:
    d: dict[str, Any] = s.model_dump(mode="json")
    d["embodied_kgco2e"] = {b: s.embodied_kg(b) for b in BOUND_CHOICES}
    return d
