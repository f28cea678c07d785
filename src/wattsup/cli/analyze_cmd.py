"""``wattsup analyze``: size, multi-purpose models, output length, parity, life cycle, ratings and
warnings of stored runs, through :mod:`wattsup.analysis`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from wattsup.analysis.types import Metric, Selection
from wattsup.cli import ui
from wattsup.cli.params import bind
from wattsup.cli.results_cmd import DbOption

if TYPE_CHECKING:
    pass
from wattsup.cli.analysis_common import (
    FormatOpt,
    JsonOpt,
    OutOpt,
    ParamsOpt,
    ScenarioFinetune,
    ScenarioGpu,
    ScenarioKwh,
    ScenarioPue,
    ScenarioQueries,
    ScenarioRegion,
    ScenarioTraining,
    ScenarioYears,
    _echo_json,
    _emit,
    _modelled,
    _say_modelled,
)

analyze_app = typer.Typer(
    name="analyze",
    help="Analyses of stored runs: size, multi-purpose models, output length, parity, life cycle, ratings.",
    no_args_is_help=True,
)


@analyze_app.command("params")
@bind("sel", Selection, include=("task", "model", "dataset", "hardware", "mode", "exclude_dataset"))
@bind("metric", Metric)
def params_cmd(
    *,
    params: ParamsOpt = None,
    sel: Selection,
    metric: Metric,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """Energy against parameter count per task: log-log fit, Pearson and Spearman correlation."""
    from wattsup.analysis import energy_vs_params, read_model_parameters
    from wattsup.results import Store

    mapping = read_model_parameters(params) if params is not None else None
    with Store.open(db, create=False) as store:
        fits = energy_vs_params(store, sel, metric, params=mapping)
        note = _modelled(store, sel, metric)
    if not _emit(fits, as_json, out, fmt):
        return
    table = ui.plain_table(
        ("task", "models", "slope", "r", "r²", "Spearman", "no parameter count"),
        title="log10(energy) = slope·log10(parameters) + b",
    )
    for f in fits:
        table.add_row(
            f.task,
            str(f.n),
            ui.num(f.slope, ".3g"),
            ui.num(f.r, ".3f"),
            ui.num(f.r2, ".3f"),
            ui.num(f.spearman, ".3f"),
            ", ".join(f.missing_params) or "-",
        )
    ui.console().print(table)
    for f in fits:
        if f.note:
            ui.console(soft_wrap=True).print(f"{f.task}: {f.note}")
    _say_modelled(note if fits else None)


@analyze_app.command("modes")
@bind("sel", Selection, include=("task", "model", "dataset", "hardware", "exclude_dataset", "exclude_model"))
@bind("metric", Metric)
def modes_cmd(
    *,
    sel: Selection,
    metric: Metric,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """Multi-purpose (zero-shot) against task-specific models per task: ratio of the means, per dataset
    too."""
    from wattsup.analysis import multi_vs_task
    from wattsup.results import Store

    with Store.open(db, create=False) as store:
        rows = multi_vs_task(store, sel, metric)
        note = _modelled(store, sel, metric)
    if not _emit(rows, as_json, out, fmt):
        return
    table = ui.plain_table(
        ("task", "dataset", "task-specific", "multi-purpose", "ratio", "models"),
        title="mean over models; ratio = multi-purpose / task-specific",
    )
    for c in rows:
        table.add_row(
            c.task,
            "(all)",
            ui.num(c.task_specific_kwh),
            ui.num(c.multi_purpose_kwh),
            ui.num(c.ratio, ".3g"),
            f"{c.task_specific_models} / {c.multi_purpose_models}",
        )
        for d in c.per_dataset:
            table.add_row(
                "",
                d.dataset,
                ui.num(d.task_specific_kwh),
                ui.num(d.multi_purpose_kwh),
                ui.num(d.ratio, ".3g"),
                f"{d.task_specific_models} / {d.multi_purpose_models}",
            )
    ui.console().print(table)
    _say_modelled(note if rows else None)


@analyze_app.command("lengths")
@bind("sel", Selection, include=("task", "model", "dataset", "mode"))
@bind("metric", Metric)
def lengths_cmd(
    *,
    sel: Selection,
    metric: Metric,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """Output length against energy by model family (decoder-only, encoder-decoder): linear fits."""
    from wattsup.analysis import output_length_vs_energy
    from wattsup.results import Store

    with Store.open(db, create=False) as store:
        fits = output_length_vs_energy(store, sel, metric)
        note = _modelled(store, sel, metric)
    if not _emit(fits, as_json, out, fmt):
        return
    table = ui.plain_table(
        ("family", "points", "slope (per token)", "intercept", "r"), title="energy = slope·tokens + intercept"
    )
    for f in fits:
        table.add_row(
            f.family, str(f.n), ui.num(f.slope, ".3g"), ui.num(f.intercept, ".3g"), ui.num(f.r, ".3f")
        )
    ui.console().print(table)
    _say_modelled(note if fits else None)
    if not fits:
        typer.echo("no run records its output length (output_units); import with --lengths", err=True)


@analyze_app.command("parity")
@bind("sel", Selection, include=("task", "model"))
@bind("metric", Metric)
def parity_cmd(
    *,
    training_kwh: Annotated[float, typer.Option("--training-kwh", help="Energy of training (kWh).")],
    finetune_kwh: Annotated[float, typer.Option("--finetune-kwh", help="Energy of fine-tuning (kWh).")] = 0.0,
    queries_per_day: Annotated[
        float | None, typer.Option("--queries-per-day", help="To express parity in days.")
    ] = None,
    sel: Selection,
    metric: Metric,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """Cost parity: inferences after which inference has used as much energy as training + fine-tuning."""
    from wattsup.analysis import parity
    from wattsup.results import Store

    with Store.open(db, create=False) as store:
        rows = parity(
            store,
            training_kwh,
            sel,
            metric,
            finetune_kwh=finetune_kwh,
            queries_per_day=queries_per_day,
        )
        note = _modelled(store, sel, metric)
    if not _emit(rows, as_json, out, fmt):
        return
    table = ui.plain_table(("task", "model", "kWh/1k", "parity inferences", "parity days"))
    for r in rows:
        table.add_row(
            r.task,
            r.model,
            ui.num(r.kwh_per_1k),
            ui.num(r.parity_inferences, ",.4g"),
            ui.num(r.parity_days, ",.4g"),
        )
    ui.console().print(table)
    _say_modelled(note if rows else None)


@analyze_app.command("lifecycle")
@bind("metric", Metric)
def lifecycle_cmd(
    *,
    region: ScenarioRegion = None,
    queries_per_day: ScenarioQueries = 1_000_000.0,
    years: ScenarioYears = 1.0,
    training_kwh: ScenarioTraining = None,
    finetune_kwh: ScenarioFinetune = 0.0,
    gpu: ScenarioGpu = None,
    pue: ScenarioPue = None,
    kwh_per_1k: ScenarioKwh = None,
    task: Annotated[str | None, typer.Option("--task", help="The task deployed.")] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="The model deployed (default: mean of the task's).")
    ] = None,
    metric: Metric,
    as_json: JsonOpt = False,
    db: DbOption = None,
) -> None:
    """Operational and embodied carbon of training and of a deployment of the stored model(s)."""
    from wattsup.analysis import Scenario, lifecycle
    from wattsup.results import Store

    scenario = Scenario(
        task=task,
        model=model,
        kwh_per_1k=kwh_per_1k,
        region=region,
        queries_per_day=queries_per_day,
        years=years,
        training_kwh=training_kwh,
        finetune_kwh=finetune_kwh,
        gpu=gpu,
        pue=pue,
    )
    with Store.open(db, create=False) as store:
        b = lifecycle(store, scenario, None, metric)
        note = _modelled(
            store,
            Selection(task=task, model=model),
            metric,
        )
    if as_json:
        _echo_json(b.model_dump(mode="json"))
        return
    console = ui.console()
    console.print(
        f"{ui.num(b.kwh_per_1k)} kWh per 1,000 inferences ({b.kwh_source}); GPU {b.gpu or 'unknown'}"
    )
    console.print(
        f"training:  operational {ui.num(b.training_operational_kg, ',.4g')} kgCO2e, "
        f"embodied {ui.num(b.training_embodied_kg, ',.4g')} kgCO2e"
    )
    console.print(
        f"inference: operational {ui.num(b.inference_operational_kg, ',.4g')} kgCO2e, "
        f"embodied {ui.num(b.inference_embodied_kg, ',.4g')} kgCO2e"
    )
    total = f"total {ui.num(b.total_kg, ',.4g')} kgCO2e"
    if b.total_kg is None and b.total_excluding_embodied_kg is not None:
        total += f" ({ui.num(b.total_excluding_embodied_kg, ',.4g')} kgCO2e excluding embodied, unknown)"
    console.print(
        f"{total}; "
        f"energy parity after {ui.num(b.parity_inferences, ',.4g')} "
        f"inferences ({ui.num(b.parity_days, ',.4g')} days)"
    )
    for n in b.notes:
        console.print(f"note: {n}")
    _say_modelled(None if b.kwh_source.startswith("given") else note)


@analyze_app.command("ratings")
@bind("sel", Selection, include=("task", "model", "dataset", "hardware", "mode", "exclude_dataset"))
@bind("metric", Metric)
def ratings_cmd(
    *,
    sel: Selection,
    metric: Metric,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """Star ratings (1-5) per task, in five 20% groups of the models measured on the same hardware class."""
    from wattsup.analysis import star_ratings
    from wattsup.results import Store

    with Store.open(db, create=False) as store:
        rows = star_ratings(
            store,
            sel,
            metric,
        )
        note = _modelled(
            store,
            sel,
            metric,
        )
    if not _emit(rows, as_json, out, fmt):
        return
    table = ui.plain_table(("task", "class", "model", "energy", "stars", "rank", "note"))
    for r in rows:
        table.add_row(
            r.task,
            r.hardware_class + (f" / {r.size_class}" if r.size_class else ""),
            r.model,
            ui.num(r.kwh),
            "★" * r.stars if r.stars else "-",
            f"{r.rank}/{r.group_size}",
            r.note,
        )
    ui.console().print(table)
    _say_modelled(note if rows else None)


@analyze_app.command("warnings")
@bind("sel", Selection, include=("task", "model"))
def warnings_cmd(
    *,
    sel: Selection,
    as_json: JsonOpt = False,
    db: DbOption = None,
) -> None:
    """Where measured and modelled components are added into one figure."""
    from wattsup.analysis import mixed_method_warnings
    from wattsup.results import Store

    with Store.open(db, create=False) as store:
        rows = mixed_method_warnings(store, sel)
    if as_json:
        _echo_json([r.model_dump(mode="json") for r in rows])
        return
    for r in rows:
        typer.echo(r.message)
    if not rows:
        typer.echo("no figure mixes measured and modelled components")
