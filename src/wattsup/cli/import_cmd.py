"""``wattsup import``: measurements made by other tools (CodeCarbon, optimum-benchmark, a record file)
into the store, through :mod:`wattsup.results.importers`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wattsup.cli.params import bind
from wattsup.cli.results_cmd import DbOption
from wattsup.errors import InvalidInput
from wattsup.params import build
from wattsup.results.importers import ImportOptions

if TYPE_CHECKING:
    from wattsup.results.importers import ImportReport
from wattsup.cli.analysis_common import JsonOpt, ParamsOpt, _echo_json

import_app = typer.Typer(
    name="import", help="Import measurements made by other tools into the store.", no_args_is_help=True
)

# ---------------------------------------------------------------- import


def _print_import(report: ImportReport, location: str, as_json: bool, kind: str) -> None:
    if as_json:
        _echo_json({"store": location, **report.to_dict()})
        return
    typer.echo(
        f"read {report.rows} row{'s' if report.rows != 1 else ''} from {report.files} {kind} file"
        f"{'s' if report.files != 1 else ''}: {report.runs} runs, {report.added} new in {location}"
    )
    if report.merged:
        typer.echo(f"completed {report.merged} stored run(s) with the rows of these files (merged)")
    if report.unchanged:
        typer.echo(
            f"{report.unchanged} run(s) already stored exactly as these files give them: nothing to add"
        )
    for reason, n in report.skipped.items():
        typer.echo(f"skipped {n}: {reason}", err=True)
    for w in report.warnings:
        typer.echo(f"warning: {w}", err=True)


OPTIMUM_OPTIONS = ("task", "dataset", "model", "inferences", "gpu_method", "cpu_method")
"""What an optimum-benchmark report does not say itself (it ran on ``cuda:0``)."""

OPTIMUM_DEFAULTS = {
    "gpu_method": "Default for optimum-benchmark reports: sampled (they integrate NVML power readings).",
}
"""The import option whose default differs for optimum-benchmark reports, with what its help adds."""


@import_app.command("codecarbon")
@bind("given", ImportOptions, values=True)
def import_codecarbon_cmd(
    *,
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="CSV logs, or directories of them.")],
    given: dict[str, Any],
    params: ParamsOpt = None,
    db: DbOption = None,
    as_json: JsonOpt = False,
) -> None:
    """Import CodeCarbon CSV logs, plain or task mode (rows sharing a run_id are one run; task-mode rows
    become its phases). A directory imports every CSV in it."""
    from wattsup.results import Store
    from wattsup.results.importers import import_codecarbon, read_params

    opts = build(ImportOptions, {**given, "params": read_params(params) if params is not None else None})
    with Store.open(db) as store:
        report = import_codecarbon(store, paths, opts)
        location = store.location
    _print_import(report, location, as_json, "CodeCarbon")
    if report.runs == 0:
        raise InvalidInput(
            "--task" if "task unknown" in " ".join(report.skipped) else "PATH",
            "no run could be imported (see the reasons above)",
        )


@import_app.command("record")
def import_record_cmd(
    *,
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="Run records as JSON (wattsup-run-RUNID.json).")
    ],
    db: DbOption = None,
) -> None:
    """Store run records that wattsup wrote to files when it could not store them (bench, suite)."""
    from pydantic import ValidationError

    from wattsup.results import RunRecord, Store

    records = []
    for path in paths:
        try:
            records.append(RunRecord.model_validate_json(path.read_text(encoding="utf-8")))
        except OSError as e:
            raise InvalidInput("PATH", f"cannot read {path}: {e.strerror or e}") from None
        except (ValidationError, ValueError) as e:
            first = str(e).strip().splitlines()[0]
            raise InvalidInput("PATH", f"{path} is not a wattsup run record ({first})") from None
    with Store.open(db) as store:
        for record in records:
            store.keep(record)
        location = store.location
    typer.echo(f"stored {len(records)} run{'s' if len(records) != 1 else ''} in {location}")


@import_app.command("optimum")
@bind("given", ImportOptions, values=True, include=OPTIMUM_OPTIONS, unset=OPTIMUM_DEFAULTS)
def import_optimum_cmd(
    *,
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...", help="benchmark.json / benchmark_report.json files or directories."
        ),
    ],
    given: dict[str, Any],
    db: DbOption = None,
    as_json: JsonOpt = False,
) -> None:
    """Import optimum-benchmark reports (the AI Energy Score's format)."""
    from wattsup.results import Store
    from wattsup.results.importers import import_optimum

    opts = build(ImportOptions, {"gpu_method": "sampled", **given, "device": "cuda:0"})
    with Store.open(db) as store:
        _, report = import_optimum(store, paths, opts)
        location = store.location
    _print_import(report, location, as_json, "report")
    if report.runs == 0:
        raise InvalidInput("PATH", "no report could be imported (see the reasons above)")
