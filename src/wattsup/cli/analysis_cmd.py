"""``wattsup summary`` and ``leaderboard`` (and the registration of ``import``, ``analyze``, ``compare``,
``label`` and ``report``): thin wrappers over :mod:`wattsup.analysis`."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

import typer

from wattsup.analysis.types import Metric, Selection
from wattsup.cli import ui
from wattsup.cli.analysis_common import (
    Rows,
    _basis,
    _echo_json,
    _emit,
    _empty,
    _modelled,
    _say_modelled,
    _warn_mixed,
    _write,
    selected,
    show,
    stored,
)
from wattsup.cli.analyze_cmd import analyze_app
from wattsup.cli.import_cmd import import_app
from wattsup.cli.report_cmd import compare_cmd, label_cmd, report_cmd
from wattsup.errors import InvalidInput


def register(app: typer.Typer) -> None:
    app.add_typer(import_app)
    app.command("summary")(summary_cmd)
    app.command("leaderboard")(leaderboard_cmd)
    app.add_typer(analyze_app)
    app.command("compare")(compare_cmd)
    app.command("label")(label_cmd)
    app.command("report")(report_cmd)


# ---------------------------------------------------------------- summary and leaderboard


@selected("task", "model", "dataset", "hardware", "mode", "exclude_dataset", "exclude_model")
def summary_cmd(
    *,
    by: Annotated[
        str, typer.Option("--by", help="task (statistics over models) or model (one row per model).")
    ] = "task",
    sel: Selection,
    metric: Metric,
    ci: Annotated[
        bool, typer.Option("--ci", help="Add a 95% bootstrap interval of each task's mean.")
    ] = False,
    rows: Rows,
) -> None:
    """Energy per task: mean, standard deviation, median, minimum and maximum over models of kWh per
    1,000 inferences (each model first averaged over its runs and datasets), and the model count."""
    from wattsup.analysis import model_energies, summary_by_task, task_intervals
    from wattsup.results import Store

    if by not in ("task", "model"):
        raise InvalidInput("--by", f"must be task or model, got {by!r}")
    with Store.open(rows.db, create=False) as store:
        location = store.location
        note = _modelled(store, sel, metric)
        if by == "model":
            models = model_energies(store, sel, metric)
            _warn_mixed(store, sel, metric)
            if _emit(models, rows.as_json, rows.out, rows.fmt):
                _print_models(models, location, metric.unit)
                _say_modelled(note if models else None)
            return
        found = summary_by_task(store, sel, metric)
        intervals = {t.task: t for t in task_intervals(store, sel, metric)} if ci else {}
    mixed = [r.task for r in found if r.mixes_measured_and_modeled]
    if mixed:
        typer.echo(
            f"warning: {', '.join(mixed)}: the figures add measured and modelled (estimated) components; "
            "--component gpu shows measured figures only ('wattsup analyze warnings' lists the models)",
            err=True,
        )
    _write(list(found), rows.out, rows.fmt)
    if rows.as_json:
        data = []
        for r in found:
            obj = r.to_public()
            if ci:
                iv = intervals.get(r.task)
                obj["ci95"] = (
                    None if iv is None or iv.interval is None else [iv.interval.low, iv.interval.high]
                )
            data.append(obj)
        _echo_json(data)
        return
    _print_summary(found, intervals if ci else None, location)
    _say_modelled(note)


def _print_summary(rows: Any, intervals: dict[str, Any] | None, location: str) -> None:
    from wattsup.analysis.uncertainty import MIN_INTERVAL_MODELS

    console = ui.console()
    if not rows:
        _empty(console, location)
        return
    cols = ("task", "models", "runs", "mean", "std", "median", "min", "max")
    table = ui.plain_table(cols, title=f"{rows[0].unit}, over models", right=cols[1:])
    if intervals is not None:
        table.add_column("95% CI", justify="right")
    for r in rows:
        cells = [
            r.task,
            str(r.models),
            str(r.runs),
            ui.num(r.mean_kwh),
            ui.num(r.std_kwh),
            ui.num(r.median_kwh),
            ui.num(r.min_kwh),
            ui.num(r.max_kwh),
        ]
        if intervals is not None:
            iv = intervals.get(r.task)
            cells.append(
                f"{iv.interval.low:.3g}–{iv.interval.high:.3g}"
                if iv is not None and iv.interval is not None
                else f"n/a (< {MIN_INTERVAL_MODELS} models)"
            )
        table.add_row(*cells)
    console.print(table)
    console.print(f"{sum(r.runs for r in rows)} runs in {location}")


def _print_models(models: Any, location: str, unit: str) -> None:
    console = ui.console()
    if not models:
        _empty(console, location)
        return
    table = ui.plain_table(
        ("task", "model", "mode", "energy", "basis", "± sd", "runs", "datasets", "parameters", "hardware"),
        title=unit,
        right=("energy", "± sd", "runs", "datasets", "parameters"),
    )
    for m in models:
        table.add_row(
            m.task,
            m.model,
            m.mode,
            ui.num(m.kwh),
            _basis(m.has_modeled),
            ui.num(m.std_kwh, ".2g"),
            str(m.runs),
            str(m.datasets),
            f"{m.n_params:,}" if m.n_params else "unknown",
            m.hardware or "unknown",
        )
    console.print(table)


@selected("model", "dataset", "hardware", "mode", "exclude_dataset", "exclude_model")
def leaderboard_cmd(
    *,
    task_name: Annotated[str, typer.Argument(metavar="TASK", help="The task to rank models on.")],
    sel: Selection,
    metric: Metric,
    hardware_class: Annotated[
        str | None, typer.Option("--hardware-class", help="Only one hardware class (A100, H100, CPU, ...).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many rows.")] = None,
    rows: Rows,
) -> None:
    """A task's models from least to most energy, with star ratings within the hardware class."""
    from wattsup.analysis import leaderboard

    found, note = stored(
        rows,
        dataclasses.replace(sel, task=task_name),
        metric,
        lambda store: leaderboard(store, task_name, sel, metric, hardware_class=hardware_class, limit=limit),
    )
    show(
        found,
        rows,
        ("rank", "model", "mode", "energy", "basis", "stars", "class", "runs", "parameters"),
        (
            (
                str(r.rank),
                r.model,
                r.mode,
                ui.num(r.kwh),
                _basis(r.has_modeled),
                "★" * r.stars if r.stars else "not rated",
                r.hardware_class,
                str(r.runs),
                f"{r.n_params:,}" if r.n_params else "unknown",
            )
            for r in found
        ),
        note=note,
        title=f"{task_name}: {metric.unit}",
        right=("rank", "energy", "runs", "parameters"),
    )
