"""``wattsup analyze``: size, multi-purpose models, output length, parity, life cycle, ratings and
warnings of stored runs, through :mod:`wattsup.analysis`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from wattsup.analysis.types import Metric, Selection
from wattsup.cli import ui
from wattsup.cli.analysis_common import (
    Deployment,
    ParamsOpt,
    Rows,
    _echo_json,
    _say_modelled,
    selected,
    show,
    stored,
)
from wattsup.cli.params import bind

if TYPE_CHECKING:
    from wattsup.analysis.types import DatasetComparison, ModeComparison

analyze_app = typer.Typer(
    name="analyze",
    help="Analyses of stored runs: size, multi-purpose models, output length, parity, life cycle, ratings.",
    no_args_is_help=True,
)


@analyze_app.command("params")
@selected("task", "model", "dataset", "hardware", "mode", "exclude_dataset")
def params_cmd(*, params: ParamsOpt = None, sel: Selection, metric: Metric, rows: Rows) -> None:
    """Energy against parameter count per task: log-log fit, Pearson and Spearman correlation."""
    from wattsup.analysis import energy_vs_params, read_model_parameters

    mapping = read_model_parameters(params) if params is not None else None
    fits, note = stored(rows, sel, metric, lambda store: energy_vs_params(store, sel, metric, params=mapping))
    show(
        fits,
        rows,
        ("task", "models", "slope", "r", "r²", "Spearman", "no parameter count"),
        (
            (
                f.task,
                str(f.n),
                ui.num(f.slope, ".3g"),
                ui.num(f.r, ".3f"),
                ui.num(f.r2, ".3f"),
                ui.num(f.spearman, ".3f"),
                ", ".join(f.missing_params) or "-",
            )
            for f in fits
        ),
        note=note,
        title="log10(energy) = slope·log10(parameters) + b",
        footer=[f"{f.task}: {f.note}" for f in fits if f.note],
    )


@analyze_app.command("modes")
@selected("task", "model", "dataset", "hardware", "exclude_dataset", "exclude_model")
def modes_cmd(*, sel: Selection, metric: Metric, rows: Rows) -> None:
    """Multi-purpose (zero-shot) against task-specific models per task: ratio of the means, per dataset
    too."""
    from wattsup.analysis import multi_vs_task

    found, note = stored(rows, sel, metric, lambda store: multi_vs_task(store, sel, metric))
    show(
        found,
        rows,
        ("task", "dataset", "task-specific", "multi-purpose", "ratio", "models"),
        _mode_lines(found),
        note=note,
        title="mean over models; ratio = multi-purpose / task-specific",
    )


def _mode_lines(found: list[ModeComparison]) -> Iterator[tuple[str, ...]]:
    """A task's row over all its datasets, then a row per dataset."""
    for c in found:
        yield (c.task, "(all)", *_mode_cells(c))
        for d in c.per_dataset:
            yield ("", d.dataset, *_mode_cells(d))


def _mode_cells(c: ModeComparison | DatasetComparison) -> tuple[str, ...]:
    return (
        ui.num(c.task_specific_kwh),
        ui.num(c.multi_purpose_kwh),
        ui.num(c.ratio, ".3g"),
        f"{c.task_specific_models} / {c.multi_purpose_models}",
    )


@analyze_app.command("lengths")
@selected("task", "model", "dataset", "mode")
def lengths_cmd(*, sel: Selection, metric: Metric, rows: Rows) -> None:
    """Output length against energy by model family (decoder-only, encoder-decoder): linear fits."""
    from wattsup.analysis import output_length_vs_energy

    fits, note = stored(rows, sel, metric, lambda store: output_length_vs_energy(store, sel, metric))
    show(
        fits,
        rows,
        ("family", "points", "slope (per token)", "intercept", "r"),
        (
            (f.family, str(f.n), ui.num(f.slope, ".3g"), ui.num(f.intercept, ".3g"), ui.num(f.r, ".3f"))
            for f in fits
        ),
        note=note,
        title="energy = slope·tokens + intercept",
    )
    if not fits and not rows.as_json:
        typer.echo("no run records its output length (output_units); import with --lengths", err=True)


@analyze_app.command("parity")
@selected("task", "model")
def parity_cmd(
    *,
    training_kwh: Annotated[float, typer.Option("--training-kwh", help="Energy of training (kWh).")],
    finetune_kwh: Annotated[float, typer.Option("--finetune-kwh", help="Energy of fine-tuning (kWh).")] = 0.0,
    queries_per_day: Annotated[
        float | None, typer.Option("--queries-per-day", help="To express parity in days.")
    ] = None,
    sel: Selection,
    metric: Metric,
    rows: Rows,
) -> None:
    """Cost parity: inferences after which inference has used as much energy as training + fine-tuning."""
    from wattsup.analysis import parity

    found, note = stored(
        rows,
        sel,
        metric,
        lambda store: parity(
            store, training_kwh, sel, metric, finetune_kwh=finetune_kwh, queries_per_day=queries_per_day
        ),
    )
    show(
        found,
        rows,
        ("task", "model", "kWh/1k", "parity inferences", "parity days"),
        (
            (
                r.task,
                r.model,
                ui.num(r.kwh_per_1k),
                ui.num(r.parity_inferences, ",.4g"),
                ui.num(r.parity_days, ",.4g"),
            )
            for r in found
        ),
        note=note,
    )


@analyze_app.command("lifecycle")
@bind("metric", Metric)
@bind("deployment", Deployment)
@bind("rows", Rows, include=("as_json", "db"))
def lifecycle_cmd(
    *,
    deployment: Deployment,
    task: Annotated[str | None, typer.Option("--task", help="The task deployed.")] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="The model deployed (default: mean of the task's).")
    ] = None,
    metric: Metric,
    rows: Rows,
) -> None:
    """Operational and embodied carbon of training and of a deployment of the stored model(s)."""
    from wattsup.analysis import lifecycle

    scenario = deployment.scenario(task=task, model=model)
    b, note = stored(
        rows,
        Selection(task=task, model=model),
        metric,
        lambda store: lifecycle(store, scenario, None, metric),
    )
    if rows.as_json:
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
@selected("task", "model", "dataset", "hardware", "mode", "exclude_dataset")
def ratings_cmd(*, sel: Selection, metric: Metric, rows: Rows) -> None:
    """Star ratings (1-5) per task, in five 20% groups of the models measured on the same hardware class."""
    from wattsup.analysis import star_ratings

    found, note = stored(rows, sel, metric, lambda store: star_ratings(store, sel, metric))
    show(
        found,
        rows,
        ("task", "class", "model", "energy", "stars", "rank", "note"),
        (
            (
                r.task,
                r.hardware_class + (f" / {r.size_class}" if r.size_class else ""),
                r.model,
                ui.num(r.kwh),
                "★" * r.stars if r.stars else "-",
                f"{r.rank}/{r.group_size}",
                r.note,
            )
            for r in found
        ),
        note=note,
    )


@analyze_app.command("warnings")
@bind("sel", Selection, include=("task", "model"))
@bind("rows", Rows, include=("as_json", "db"))
def warnings_cmd(*, sel: Selection, rows: Rows) -> None:
    """Where measured and modelled components are added into one figure."""
    from wattsup.analysis import mixed_method_warnings
    from wattsup.results import Store

    with Store.open(rows.db, create=False) as store:
        found = mixed_method_warnings(store, sel)
    if rows.as_json:
        _echo_json([r.model_dump(mode="json") for r in found])
        return
    for r in found:
        typer.echo(r.message)
    if not found:
        typer.echo("no figure mixes measured and modelled components")
