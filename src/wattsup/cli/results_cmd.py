"""``wattsup runs``, ``wattsup show`` and ``wattsup export``: thin wrappers over :mod:`wattsup.results`.

Other command modules that read or write the store take the same option: ``db: DbOption = None``, then
``Store.open(db)`` (which falls back to ``$WATTSUP_DB`` and the default file, naming each in errors);
commands that only read open it with ``create=False``, so they never create a store.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wattsup.cli import ui
from wattsup.errors import InvalidInput
from wattsup.params import ParamModel, param

if TYPE_CHECKING:
    from wattsup.results import RunFilter, RunRecord, RunSummary

DB_HELP = (
    "The results store: a SQLite file path or a SQLAlchemy URL (postgresql+psycopg://USER@HOST/DB). "
    "Default: $WATTSUP_DB, else runs.db in the user's data directory."
)
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        show_default=False,
        help=DB_HELP,
    ),
]


class Recording(ParamModel):
    """Where a measuring command (``wattsup bench``, ``wattsup serve``) records its result and how it
    prints it (``@bind("out", Recording)``)."""

    db: str | None = param(None, DB_HELP, flag="--db", metavar="URL")
    no_store: bool = param(False, "Do not record the result in the store.", flag="--no-store")
    as_json: bool = param(False, "Print the result as JSON (no progress display).", flag="--json")


TaskOption = Annotated[
    list[str] | None, typer.Option("--task", help="Only this task (repeatable; globs: '*').")
]
ModelOption = Annotated[
    list[str] | None, typer.Option("--model", help="Only this model (repeatable; globs).")
]
StatusOption = Annotated[
    list[str] | None, typer.Option("--status", help="Only runs with this status: ok or failed.")
]
HardwareOption = Annotated[
    list[str] | None, typer.Option("--hardware", help="Only this GPU or CPU model (repeatable; globs).")
]

STATUSES = ("ok", "failed")


def register(app: typer.Typer) -> None:
    app.command("runs")(runs_cmd)
    app.command("show")(show_cmd)
    app.command("export")(export_cmd)


# ---------------------------------------------------------------- helpers


def _filters(
    task: list[str] | None, model: list[str] | None, status: list[str] | None, hardware: list[str] | None
) -> RunFilter:
    from wattsup.results import RunFilter

    for s in status or []:
        if s not in STATUSES and "*" not in s and "?" not in s:
            raise InvalidInput("--status", f"must be one of {', '.join(STATUSES)}, got {s!r}")
    return RunFilter(task=task or None, model=model or None, status=status or None, hardware=hardware or None)


def _when(v: datetime | None) -> str:
    return "" if v is None else v.strftime("%Y-%m-%d %H:%M:%S")


def _methods(sensor_methods: str | None) -> str:
    """``"cpu=counter gpu:0=counter ram=modeled"`` → ``"counter+modeled"``: how the figure was obtained."""
    if not sensor_methods:
        return ""
    found = {m for part in sensor_methods.split() for m in part.partition("=")[2].split("|")}
    return "+".join(m for m in ("counter", "sampled", "modeled") if m in found)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


# ---------------------------------------------------------------- runs


def runs_cmd(
    *,
    db: DbOption = None,
    task: TaskOption = None,
    model: ModelOption = None,
    status: StatusOption = None,
    hardware: HardwareOption = None,
    limit: Annotated[
        int, typer.Option("--limit", help="At most this many runs, newest first (0: all).")
    ] = 50,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (a list of runs) instead of a table.")
    ] = False,
) -> None:
    """List stored runs, newest first, with their headline figure (kWh per 1,000 inferences)."""
    from wattsup.results import Store

    if limit < 0:
        raise InvalidInput("--limit", f"must be 0 (all) or more, got {limit}")
    filters = _filters(task, model, status, hardware)
    with Store.open(db, create=False) as store:
        found = store.list_runs(filters, limit=limit or None)
        total = len(found) if not limit or len(found) < limit else store.count(filters)
        location = store.location
    if as_json:
        _echo_json([r.to_dict() for r in found])
        return
    console = ui.console()
    if not found:
        console.print(
            f"no runs match in {location}" if filters.clauses() else f"no runs stored in {location}"
        )
        return
    console.print(_runs_table(found))
    more = "; --limit N shows more, --limit 0 all" if total > len(found) else ""
    console.print(f"{len(found)} of {total} runs in {location}{more}")


def _runs_table(found: list[RunSummary]) -> Any:

    table = ui.plain_table()
    table.add_column("run", no_wrap=True)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("status")
    table.add_column("task")
    table.add_column("model", overflow="fold")
    table.add_column("hardware", overflow="fold")
    table.add_column("device")
    table.add_column("batch", justify="right")
    table.add_column("n×reps", justify="right")
    table.add_column("kWh/1k", justify="right")
    table.add_column("± sd", justify="right")
    table.add_column("methods")
    for r in found:
        status = "[green]ok[/]" if r.status == "ok" else f"[red]{r.status}[/]"
        table.add_row(
            r.run_id[:12],
            _when(r.started_at),
            status,
            r.task,
            r.model,
            r.hardware or "unknown",
            r.device,
            str(r.batch_size),
            f"{r.n}×{r.reps}",
            ui.num(r.energy_kwh_per_1k) if r.status == "ok" else "",
            ui.num(r.energy_kwh_per_1k_std, ".2g") if r.energy_kwh_per_1k_std is not None else "",
            _methods(r.sensor_methods),
        )
    return table


# ---------------------------------------------------------------- show


def show_cmd(
    *,
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="A run id, or the start of one.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full run record as JSON.")] = False,
) -> None:
    """Show one run: configuration, figures, phases and provenance."""
    from wattsup.results import Store

    with Store.open(db, create=False) as store:
        record = store.get(store.resolve(run_id))
    if as_json:
        typer.echo(record.model_dump_json(indent=2))
        return
    _show(record)


def _phase_rows(console: Any, record: RunRecord) -> None:
    """The phases table of a run: window and phase, component, method, energy and duration."""

    from wattsup.results.rows import phase_table

    rows = phase_table(record)
    if rows:
        t = ui.table(
            ("window / phase", "component", "method", "energy J", "± J", "kWh/1k", "duration s"),
            right=("energy J", "± J", "kWh/1k", "duration s"),
            title="phases (mean per repetition)",
            title_justify="left",
            title_style="bold",
            box=None,
        )
        for r in rows:
            label = (
                r["phase"].rsplit("/", 1)[-1]
                if r["phase"]
                else ("model load" if r["window"] == "load" else "repetition")
            )
            t.add_row(
                "  " * r["depth"] + label,
                r["component"],
                r["method"],
                ui.num(r["energy_j"]),
                ui.num(r["error_bound_j"], ".2g"),
                "" if r["kwh_per_1k"] is None else ui.num(r["kwh_per_1k"]),
                ui.num(r["duration_s"]),
            )
        console.print(t)


def _show(record: RunRecord) -> None:
    from rich.table import Table

    from wattsup.results.rows import headline

    console = ui.console()
    status = "[green]ok[/]" if record.status == "ok" else f"[red]{record.status}[/]"
    console.print(f"[bold]run {record.run_id}[/]  {status}  config {record.config_hash}")
    if record.error:
        console.print(f"[red]error:[/] {record.error}")

    def pairs(title: str, items: list[tuple[str, Any]]) -> None:
        t = Table(title=title, title_justify="left", title_style="bold", box=None, show_header=False)
        t.add_column(style="dim", no_wrap=True)
        t.add_column(overflow="fold")
        for k, v in items:
            if v not in (None, "", [], {}):
                t.add_row(k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
        console.print(t)

    cfg = record.config
    pairs("configuration", list(cfg.model_dump(mode="json").items()))
    h = headline(record)
    pairs(
        "figures (means over repetitions)",
        [
            (
                "started / finished (UTC)",
                f"{_when(record.started_at)} / {_when(record.finished_at) or 'unknown'}",
            ),
            ("repetitions measured", str(h["reps_measured"])),
            (
                "kWh per 1,000 inferences",
                f"{ui.num(h['energy_kwh_per_1k'])}"
                f" (sd {ui.num(h['energy_kwh_per_1k_std'], '.2g')},"
                f" error bound ±{ui.num(h['error_bound_kwh_per_1k'], '.2g')})",
            ),
            (
                "  gpu / cpu / ram",
                " / ".join(ui.num(h[f"{c}_energy_kwh_per_1k"]) for c in ("gpu", "cpu", "ram")),
            ),
            ("window duration s", ui.num(h["duration_s"])),
            ("inferences per s", ui.num(h["inferences_per_s"])),
            ("output units per rep", None if h["output_units"] is None else ui.num(h["output_units"])),
            ("model load J", None if record.load is None else ui.num(record.load.total_energy_j)),
            ("parameters", None if record.n_params is None else f"{record.n_params:,}"),
            ("sensors", h["sensor_methods"]),
        ],
    )
    _phase_rows(console, record)
    prov = record.provenance.model_dump(mode="json")
    from wattsup.bench.protocol import sensor_text

    # records stored before the fix say "modeled: modelled: ..."
    prov["sensors"] = {
        k: sensor_text(*v.split(": ", 1)) if ": " in v else v for k, v in prov["sensors"].items()
    }
    pairs("provenance", list(prov.items()))


# ---------------------------------------------------------------- export


def export_cmd(
    *,
    out: Annotated[
        str,
        typer.Option("--out", metavar="PATH", help="The file to write (default '-': standard output)."),
    ] = "-",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="csv, parquet, json or jsonl (default: from --out's suffix; csv on standard output).",
        ),
    ] = None,
    table: Annotated[
        str,
        typer.Option(
            "--table",
            help="runs (one row per run), phases, or serving (wattsup serve results, --format mlenergy).",
        ),
    ] = "runs",
    full: Annotated[bool, typer.Option("--full", help="Add each run's whole record (runs only).")] = False,
    db: DbOption = None,
    task: TaskOption = None,
    model: ModelOption = None,
    status: StatusOption = None,
    hardware: HardwareOption = None,
) -> None:
    """Export stored runs (flat columns) or their phases to CSV, Parquet or JSON; or stored serving results
    as ML.ENERGY-comparable rows (--table serving --format mlenergy --out FILE.json|FILE.csv)."""
    from wattsup.results import Store, export

    if table == "serving":
        _export_serving(
            out, fmt, full, db, model, [("--task", task), ("--status", status), ("--hardware", hardware)]
        )
        return
    filters = _filters(task, model, status, hardware)
    if out == "-" and fmt is None:
        fmt = "csv"
    with Store.open(db, create=False) as store:
        n = export(store, out, fmt=fmt, table=table, filters=filters, full=full)
        location = store.location
    if out != "-":
        typer.echo(
            f"wrote {n} {'run' if table == 'runs' else 'phase row'}{'' if n == 1 else 's'} "
            f"from {location} to {out}",
            err=True,
        )


def _export_serving(
    out: str,
    fmt: str | None,
    full: bool,
    db: str | None,
    model: list[str] | None,
    unsupported: list[tuple[str, list[str] | None]],
) -> None:
    from fnmatch import fnmatchcase

    from wattsup.results.serving_store import stored_results
    from wattsup.serving.mlenergy import write_mlenergy

    if fmt not in (None, "mlenergy"):
        raise InvalidInput("--format", f"the serving table is exported as mlenergy rows, got {fmt!r}")
    if out == "-":
        raise InvalidInput("--out", "give a .json or .csv file for the serving table")
    for flag, given in unsupported:
        if given:
            raise InvalidInput(flag, "does not apply to the serving table; filter with --model")
    if full:
        raise InvalidInput(
            "--full", "does not apply to the serving table (wattsup serve --json has it whole)"
        )
    results = stored_results(db)
    if model:

        def wanted(name: str) -> bool:  # as the runs' filters: '*' or '?' make a case-insensitive glob
            return any(
                fnmatchcase(name.lower(), m.lower()) if any(c in m for c in "*?") else name == m
                for m in model
            )

        results = [r for r in results if wanted(r.engine.model)]
    n = write_mlenergy(results, out, flag="--out")
    typer.echo(f"wrote {n} ML.ENERGY-comparable row{'' if n == 1 else 's'} to {out}", err=True)
