"""``wattsup sweep FILE``: a thin wrapper over :mod:`wattsup.sweep` (expand, resume, run, summarise)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wattsup.cli import ui
from wattsup.cli.results_cmd import DbOption

if TYPE_CHECKING:
    from rich.console import Console

    from wattsup.results import RunConfig
    from wattsup.sweep import Plan, SweepResult

PLAN_ROWS_SHOWN = 200
FAILURES_SHOWN = 50


GpusOpt = Annotated[
    str | None,
    typer.Option(
        "--gpus",
        help="Local: one run per listed GPU at a time (NVML indices 0,1,2,3, or all), each run seeing its "
        "GPU alone; CPU runs follow, one at a time.",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep_cmd)


def sweep_cmd(
    file: Annotated[Path, typer.Argument(help="The sweep file (YAML); see docs/sweep.md.")],
    executor: Annotated[
        str,
        typer.Option(
            "--executor", help="local: one run at a time here; ray: one Ray task per run (the ray extra)."
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="The Ray cluster: HOST:6379 of its head, ray://HOST:10001, or auto. "
            "Default: a local cluster started for the sweep.",
        ),
    ] = None,
    db: DbOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Expand, validate and show what would run; run nothing.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Ray: at most this many runs at once. Default: all that fit."),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option("--retries", min=0, help="Attempts after the first for a failed run (file: retries)."),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds per run before it is stopped (file: timeout_s)."),
    ] = None,
    gpus: GpusOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan or the summary as JSON.")] = False,
    max_configs: Annotated[
        int,
        typer.Option(
            "--max-configs",
            min=1,
            help="Refuse a file whose matrix multiplies out to more configurations than this.",
        ),
    ] = 100_000,
) -> None:
    """Run a sweep: every configuration of FILE not already in the store (resume), locally or on Ray."""
    from wattsup.sweep import load_sweep, plan, run_sweep
    from wattsup.sweep.progress import RichReporter

    expansion = load_sweep(file, max_configs=max_configs)
    note = ui.console(stderr=True)
    for w in expansion.warnings:
        note.print(f"[yellow]warning[/]: {w}")
    if dry_run:
        p = plan(expansion, db)
        if as_json:
            typer.echo(json.dumps(_plan_json(p), indent=2))
        else:
            _print_plan(ui.console(), p)
        return
    console = ui.console()
    result = run_sweep(
        expansion,
        executor=executor,
        db=db,
        address=address,
        workers=workers,
        retries=retries,
        timeout_s=timeout,
        reporter=None if as_json else RichReporter(console),
        gpus=gpus,
    )
    if as_json:
        typer.echo(json.dumps(result.summary(), indent=2, default=str))
    else:
        _print_result(console, result)
    if result.interrupted:
        raise typer.Exit(130)
    if result.failed:
        raise typer.Exit(1)


def _config_json(c: RunConfig) -> dict[str, Any]:
    return {"config_hash": c.config_hash(), **c.model_dump(mode="json")}


def _plan_json(p: Plan) -> dict[str, Any]:
    e = p.expansion
    done = {c.config_hash() for c in p.done}
    return {
        "source": e.source,
        "store": p.store,
        "combinations": e.combinations,
        "excluded": e.excluded,
        "duplicates": e.duplicates,
        "configurations": len(e.configs),
        "already_done": len(p.done),
        "to_run": len(p.todo),
        "warnings": e.warnings,
        "runs": [
            {**_config_json(c), "state": "done" if c.config_hash() in done else "to run"} for c in e.configs
        ],
    }


def _print_plan(console: Console, p: Plan) -> None:
    from rich.table import Table

    e = p.expansion
    done = {c.config_hash() for c in p.done}
    console.print(
        f"[bold]{e.spec.name or e.source}[/]: {len(e.configs)} configurations "
        f"({e.combinations} combinations, {e.excluded} excluded, {e.duplicates} duplicates); "
        f"{len(p.done)} already in {p.store}; [bold]{len(p.todo)} to run[/]"
    )
    t = Table(show_header=True, title="dry run: nothing was run")
    for col, just in (
        ("task", "left"),
        ("model", "left"),
        ("dataset", "left"),
        ("batch", "right"),
        ("dtype", "left"),
        ("reps", "right"),
        ("n", "right"),
        ("weights", "left"),
        ("seed", "right"),
        ("device", "left"),
        ("state", "left"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for c in e.configs[:PLAN_ROWS_SHOWN]:
        t.add_row(
            c.task + (" (zero-shot)" if c.mode == "zero-shot" else ""),
            c.model,
            c.dataset,
            str(c.batch_size),
            c.dtype,
            str(c.reps),
            str(c.n),
            c.weights,
            str(c.seed),
            c.device,
            "done" if c.config_hash() in done else "to run",
        )
    console.print(t)
    if len(e.configs) > PLAN_ROWS_SHOWN:
        console.print(f"... and {len(e.configs) - PLAN_ROWS_SHOWN} more (--json lists them all)")


def _print_result(console: Console, r: SweepResult) -> None:
    from rich.table import Table

    if not r.plan.todo:
        console.print(
            f"nothing to run: all {len(r.plan.done)} configurations have an ok run in {r.plan.store}"
        )
        return
    rate = f", {len(r.outcomes) / r.elapsed_s * 3600:.0f} runs/hour" if r.outcomes and r.elapsed_s > 0 else ""
    console.print(
        f"[bold]{r.plan.expansion.spec.name or r.plan.expansion.source}[/] ({r.executor}): "
        f"[green]{r.ok} ok[/], [red]{r.failed} failed[/], {len(r.plan.done)} done before"
        + (f", {r.not_run} not run" if r.not_run else "")
        + f"; {r.elapsed_s:.1f} s{rate}; stored in {r.plan.store}"
    )
    for k, v in r.details.items():
        console.print(f"  {k}: {v}")
    if r.interrupted:
        console.print(
            "[yellow]interrupted[/]: finished runs are stored; run the same command again to resume."
        )
    failures = [o for o in r.outcomes if o.status == "failed"]
    if not failures:
        return
    t = Table(title="failed runs (recorded in the store with their reason; a new sweep retries them)")
    for col in ("task", "model", "dataset", "attempts", "reason"):
        t.add_column(col, overflow="fold")
    for o in failures[:FAILURES_SHOWN]:
        c = o.config
        t.add_row(c.task, c.model, c.dataset, str(o.attempts or "?"), o.error or "failed")
    console.print(t)
    if len(failures) > FAILURES_SHOWN:
        console.print(f"... and {len(failures) - FAILURES_SHOWN} more: wattsup runs --status failed")
