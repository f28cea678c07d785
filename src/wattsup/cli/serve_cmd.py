"""``wattsup serve``: the energy of an LLM served under load, per output token and per request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from wattsup.cli import ui
from wattsup.cli.params import bind
from wattsup.cli.results_cmd import Recording
from wattsup.params import build
from wattsup.serving.lifecycle import CarbonOptions
from wattsup.serving.runner import ServeConfig

if TYPE_CHECKING:
    from rich.console import Console

    from wattsup.serving.results import Figure, ServingResult


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)


ConcurrencyOpt = Annotated[
    str | None,
    typer.Option("--concurrency", "-c", help="Closed-loop levels, e.g. 1,2,4,8 (batch sizes)."),
]

RateOpt = Annotated[
    str | None, typer.Option("--rate", help="Open-loop Poisson arrival rates per second, e.g. 0.5,1,2.")
]

MlenergyOutOpt = Annotated[
    str | None,
    typer.Option(
        "--mlenergy-out",
        metavar="FILE.json|FILE.csv",
        help="Also write one ML.ENERGY-comparable row per level (see docs/serving.md).",
    ),
]


@bind("carbon", CarbonOptions)
@bind("cfg", ServeConfig, values=True)
@bind("out", Recording)
def serve_cmd(
    cfg: dict[str, Any],
    carbon: CarbonOptions,
    concurrency: ConcurrencyOpt = None,
    rate: RateOpt = None,
    mlenergy_out: MlenergyOutOpt = None,
    *,
    out: Recording,
) -> None:
    """Serve an LLM under load levels and measure J per output token, TTFT, TPOT and more per level."""
    from wattsup.results.serving_store import save_result
    from wattsup.serving import parse_levels, run_serving
    from wattsup.serving.mlenergy import check_out, write_mlenergy

    levels = parse_levels(concurrency if concurrency or rate else "1,2,4,8", rate)
    config: ServeConfig = build(ServeConfig, {**cfg, "levels": levels, "carbon": carbon})
    config.validate()
    if mlenergy_out is not None:
        check_out(mlenergy_out)
    result = run_serving(config) if out.as_json else _run_with_progress(config, config.engine)
    where = None if out.no_store else save_result(result, out.db)
    if mlenergy_out is not None:
        n = write_mlenergy([result], mlenergy_out)
        typer.echo(f"wrote {n} ML.ENERGY-comparable row{'' if n == 1 else 's'} to {mlenergy_out}", err=True)
    if out.as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        _print(ui.console(), result, where)
    if all(level.completed == 0 for level in result.levels):
        raise typer.Exit(1)


def _fig(f: Figure, fmt: str = ".4g") -> str:
    if f.value is None:
        return "unknown"
    bound = "" if f.error_bound is None else f" ±{f.error_bound:{fmt}}"
    return f"{f.value:{fmt}}{bound}"


def _ms(v: float | None) -> str:
    return "unknown" if v is None else f"{v * 1000:.1f}"


def _run_with_progress(cfg: Any, engine: str) -> Any:
    """Run the levels with a progress bar per level on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    from wattsup.serving import run_serving

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=ui.console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(level: object, done: int, total: int) -> None:
            label = getattr(level, "label", str(level))
            if label not in tasks:
                tasks[label] = bar.add_task(f"{engine} {label}", total=total)
            bar.update(tasks[label], completed=done)

        return run_serving(cfg, progress=progress)


def _print(console: Console, result: ServingResult, where: str | None) -> None:
    info = result.engine
    console.print(
        f"[bold]serve[/] · {info.engine} · {info.model} · profile {result.profile} · "
        f"{result.requests_per_level} requests per level" + (f" · {info.device}" if info.device else "")
    )
    cols = [
        "level",
        "ok/failed",
        "window s",
        "J/token",
        "J/request",
        "prefill J",
        "decode J",
        "tok/s",
        "TTFT p50/p99 ms",
        "TPOT p50/p99 ms",
        "ITL p50/p99 ms",
        "GPU W",
        "GPU %",
        "generator",
    ]
    t = ui.plain_table(cols, right=set(cols) - {"level"})
    for lv in result.levels:
        t.add_row(
            lv.level.label,
            f"{lv.completed}/{lv.failed}",
            ui.num(lv.window_s, ".3g"),
            _fig(lv.j_per_output_token),
            _fig(lv.j_per_request),
            _fig(lv.prefill_energy_j, ".3g"),
            _fig(lv.decode_energy_j, ".3g"),
            ui.num(lv.tokens_per_s, ".4g"),
            f"{_ms(lv.ttft.p50_s)}/{_ms(lv.ttft.p99_s)}",
            f"{_ms(lv.tpot.p50_s)}/{_ms(lv.tpot.p99_s)}",
            f"{_ms(lv.itl.p50_s)}/{_ms(lv.itl.p99_s)}",
            _fig(lv.mean_gpu_power_w, ".4g"),
            ui.num(lv.gpu_utilisation_pct.value, ".3g"),
            "unknown" if lv.generator_share is None else f"{lv.generator_share:.2%}",
        )
    console.print(t)
    _print_life_cycle(console, result)
    methods = sorted({lv.energy_j.method for lv in result.levels if lv.energy_j.value is not None})
    console.print(f"energy method: {', '.join(methods) or 'none'} (± the meter's 95% bound)")
    console.print("sensors: " + ", ".join(f"{k} ({v})" for k, v in result.provenance.sensors.items()))
    console.print(f"prefill/decode: {info.prefill_decode}")
    console.print(f"weights: {info.weights_source}")
    console.print(f"prompts: {result.provenance.input_source}; {result.profile_source}")
    for lv in result.levels:
        for e in lv.errors:
            console.print(f"[red]{lv.level.label} failed requests:[/] {e}")
        for w in lv.warnings:
            console.print(f"[yellow]{lv.level.label} warning:[/] {w}")
    if where:
        console.print(f"stored in {where} (id {result.id})")


def _part(lc: dict[str, Any], boundary: str, unit: str, key: str) -> float | None:
    v = lc[boundary][unit][key]
    return None if v is None else float(v)


def _print_life_cycle(console: Console, result: ServingResult) -> None:
    """Per request and per 1,000 output tokens: Wh under both boundaries and their ratio, gCO2e
    (location-based, comprehensive boundary) and mL of water (comprehensive)."""
    cols = ["level", "unit", "Wh active", "Wh comprehensive", "ratio", "gCO2e (location)", "mL water"]
    t = ui.plain_table(cols, right=set(cols) - {"level", "unit"})
    notes: list[str] = []
    for lv in result.levels:
        lc = lv.life_cycle
        if lc is None:
            notes.append(f"{lv.level.label}: life cycle not computed: {lv.life_cycle_note}")
            continue
        for unit, label in (("per_request", "request"), ("per_1k_output_tokens", "1,000 tokens")):
            t.add_row(
                lv.level.label,
                label,
                ui.num(_part(lc, "active", unit, "energy_wh"), ".3g"),
                ui.num(_part(lc, "comprehensive", unit, "energy_wh"), ".3g"),
                ui.num(lc["ratio"], ".3g"),
                ui.num(_part(lc, "comprehensive", unit, "operational_location_g"), ".3g"),
                ui.num(_part(lc, "comprehensive", unit, "water_ml"), ".3g"),
            )
        omitted = lc["comprehensive"]["omitted"]
        if omitted:
            notes.append(f"{lv.level.label}: comprehensive boundary omits " + "; ".join(omitted))
    if t.row_count:
        console.print("life cycle of a request (the steady-state window; docs/carbon.md):")
        console.print(t)
        lc0 = next(lv.life_cycle for lv in result.levels if lv.life_cycle is not None)
        console.print(f"grid: {lc0['intensity_source']}; PUE {lc0['pue']:g} ({lc0['pue_source']})")
        console.print(f"water: {lc0['comprehensive']['water_basis']}")
    for n in notes:
        console.print(f"[yellow]{n}[/]")
