"""``wattsup compare``, ``label`` and ``report``: runs side by side, an energy label, and the static
report, through :mod:`wattsup.analysis` and :mod:`wattsup.report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wattsup.analysis.types import Metric, Selection
from wattsup.cli import ui
from wattsup.cli.analysis_common import Deployment, ParamsOpt, Rows, _echo_json
from wattsup.cli.params import bind
from wattsup.cli.results_cmd import DbOption
from wattsup.errors import InvalidInput

# ---------------------------------------------------------------- compare, label, report


@bind("metric", Metric)
@bind("rows", Rows, include=("as_json", "db"))
def compare_cmd(
    *,
    run_ids: Annotated[
        list[str], typer.Argument(metavar="RUN_ID...", help="Two or more runs (ids or unique prefixes).")
    ],
    metric: Metric,
    rows: Rows,
) -> None:
    """Runs side by side: energy with its 95% interval, ratio to the first run and whether it differs from
    the first beyond both intervals, and every phase."""
    from wattsup.analysis import compare_runs
    from wattsup.results import Store

    with Store.open(rows.db, create=False) as store:
        c = compare_runs(store, run_ids, metric)
    if rows.as_json:
        _echo_json(c.model_dump(mode="json"))
        return
    table = ui.plain_table(
        ("run", "task", "model", "dataset", "hardware", "energy", "95% interval", "× first", "vs first"),
        title=c.unit,
    )
    verdicts = {True: "differs", False: "within intervals", None: ""}
    for i, r in enumerate(c.runs):
        ci = r.kwh_ci95
        table.add_row(
            r.run_id[:12],
            r.task,
            r.model,
            r.dataset,
            r.hardware or "unknown",
            ui.num(r.kwh),
            f"{ui.num(ci[0])} – {ui.num(ci[1])}" if ci else "",
            ui.num(r.ratio_to_first, ".3g"),
            "(first)" if i == 0 else verdicts[r.differs_from_first],
        )
    console = ui.console()
    console.print(table)
    if c.phases:
        pt = ui.plain_table(("phase",), title="phases")
        for r in c.runs:
            pt.add_column(r.run_id[:12], justify="right")
        for p in c.phases:
            pt.add_row(p.phase, *(ui.num(v) for v in p.kwh))
        console.print(pt)
    for w in c.warnings:
        typer.echo(f"warning: {w}", err=True)


@bind("sel", Selection, include=("dataset", "hardware", "mode", "exclude_dataset"))
@bind("metric", Metric)
def label_cmd(
    *,
    model_name: Annotated[str, typer.Argument(metavar="MODEL", help="The model, as stored.")],
    task_name: Annotated[str, typer.Option("--task", help="The task the label is for.")],
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Where to write the label: .svg or .png.")
    ],
    sel: Selection,
    metric: Metric,
    db: DbOption = None,
) -> None:
    """An energy label for one model on one task (SVG or PNG): energy, hardware, date and stars."""
    from wattsup.analysis import energy_label, write_label
    from wattsup.results import Store

    if out.suffix.lower() not in (".svg", ".png"):
        raise InvalidInput("--out", f"must end in .svg or .png, got {str(out)!r}")
    with Store.open(db, create=False) as store:
        label = energy_label(
            store,
            model_name,
            task_name,
            sel,
            metric,
        )
    path = write_label(label, out)
    stars = f"{label.stars} stars" if label.stars is not None else "not rated"
    typer.echo(f"wrote {path}: {label.model} on {label.task}, {ui.num(label.kwh)} {label.unit}, {stars}")


@bind(
    "sel",
    Selection,
    include=("task", "model", "dataset", "hardware", "mode", "exclude_dataset", "exclude_model"),
)
@bind("metric", Metric)
@bind("deployment", Deployment, exclude=("kwh_per_1k", "region"))
def report_cmd(
    *,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="The directory to write the report into.")
    ] = Path("wattsup-report"),
    title: Annotated[str, typer.Option("--title", help="The report's title.")] = "wattsup report",
    sel: Selection,
    metric: Metric,
    params: ParamsOpt = None,
    region: Annotated[
        str, typer.Option("--region", help="Life-cycle scenario: where the deployment runs.")
    ] = "WORLD",
    deployment: Deployment,
    scenario_task: Annotated[
        str | None,
        typer.Option(
            "--scenario-task",
            help="Life-cycle scenario: the task deployed (default: the task with most models).",
        ),
    ] = None,
    scenario_model: Annotated[
        str | None,
        typer.Option(
            "--scenario-model", help="Life-cycle scenario: the model deployed (default: mean of the task's)."
        ),
    ] = None,
    serving_latency: Annotated[
        str,
        typer.Option(
            "--serving-latency",
            help="Serving section: the latency of the latency–energy Pareto front, ttft or tpot.",
        ),
    ] = "ttft",
    db: DbOption = None,
) -> None:
    """A self-contained offline HTML report, PNG figures and a Markdown table of the stored runs."""
    from wattsup.analysis import ReportOptions, read_model_parameters
    from wattsup.report import build_report
    from wattsup.results import Store

    options = ReportOptions(
        selection=sel,
        metric=metric,
        scenario=deployment.scenario(task=scenario_task, model=scenario_model, region=region),
        title=title,
    )
    mapping = read_model_parameters(params) if params is not None else None
    with Store.open(db, create=False) as store:
        files = build_report(
            store, out, options, location=store.location, params=mapping, serving_latency=serving_latency
        )
    typer.echo(
        f"wrote {files.html}, {files.markdown}, {files.csv} and {len(files.figures)} figures in "
        f"{files.directory / 'figures'}"
    )
    for n in files.notes:
        typer.echo(f"note: {n}", err=True)
