"""What the analysis commands share: the common options, writing rows to a file, the modelled-energy
labels and warnings."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wattsup.analysis.types import Metric, Selection
from wattsup.cli import ui
from wattsup.errors import InvalidInput

if TYPE_CHECKING:
    from pydantic import BaseModel


Many = list[str] | None
SELECTION = ("task", "model", "dataset", "hardware", "mode", "exclude_dataset", "exclude_model")
"""The selection options most commands offer (generated from :class:`~wattsup.analysis.Selection`)."""
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
OutOpt = Annotated[
    str | None,
    typer.Option(
        "--out", metavar="PATH", help="Also write the rows to a file (.csv, .parquet, .json, .jsonl)."
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option("--format", metavar="FORMAT", help="csv, parquet, json or jsonl (default: --out's suffix)."),
]
ParamsOpt = Annotated[
    Path | None,
    typer.Option("--params", metavar="CSV", help="Parameter counts: a model_name,num_parameters CSV."),
]


# ---------------------------------------------------------------- helpers


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _write(rows: Sequence[BaseModel], out: str | None, fmt: str | None) -> None:
    if out is None:
        if fmt is not None:
            raise InvalidInput("--format", "needs --out PATH")
        return
    from wattsup.analysis import export_rows

    n = export_rows(rows, out, fmt)
    if out != "-":
        typer.echo(f"wrote {n} row{'' if n == 1 else 's'} to {out}", err=True)


def _warn_mixed(store: Any, selection: Selection, metric: Metric) -> None:
    if metric.component != "all":
        return
    from wattsup.analysis import mixed_method_warnings

    found = mixed_method_warnings(store, selection)
    if found:
        example = found[0]
        typer.echo(
            f"warning: {len(found)} model/task pair(s) add measured and modelled energy "
            f"(e.g. {example.model} "
            f"on {example.task}: {example.methods}); their totals are part estimate. --component gpu shows "
            "measured figures only.",
            err=True,
        )


def _modelled(store: Any, selection: Selection | None, metric: Metric) -> str | None:
    """The label under a table whose figures include modelled energy (None where none does)."""
    from wattsup.analysis import modelled_share

    return modelled_share(store, selection, metric).note()


def _say_modelled(note: str | None) -> None:
    if note:
        ui.console(soft_wrap=True).print(f"[yellow]{note}[/]")


def _basis(has_modeled: bool | None) -> str:
    """A row's basis: ``modelled`` where its figure includes a modelled component."""
    return "unknown" if has_modeled is None else "modelled" if has_modeled else "measured"


def _empty(console: Any, location: str) -> None:
    console.print(f"no runs with an energy figure match in {location}")


def _emit(rows: list[Any], as_json: bool, out: str | None, fmt: str | None) -> bool:
    """Write/print JSON when asked; returns whether the caller should still print a table."""
    _write(rows, out, fmt)
    if as_json:
        _echo_json([r.model_dump(mode="json") for r in rows])
        return False
    return True


ScenarioRegion = Annotated[
    str | None,
    typer.Option("--region", help="Where the deployment runs (ISO code, eGRID, aws:us-west-2, ...)."),
]
ScenarioQueries = Annotated[
    float, typer.Option("--queries-per-day", help="Queries per day of the deployment.")
]
ScenarioYears = Annotated[float, typer.Option("--years", help="How long the deployment runs (years).")]
ScenarioTraining = Annotated[
    float | None,
    typer.Option("--training-kwh", help="Energy of training the model (kWh); unknown if not given."),
]
ScenarioFinetune = Annotated[float, typer.Option("--finetune-kwh", help="Energy of fine-tuning (kWh).")]
ScenarioGpu = Annotated[str | None, typer.Option("--gpu", help="Catalog GPU (default: the runs' hardware).")]
ScenarioPue = Annotated[float | None, typer.Option("--pue", help="Power usage effectiveness of the site.")]
ScenarioKwh = Annotated[
    float | None, typer.Option("--kwh-per-1k", help="Energy per 1,000 inferences (default: the runs' mean).")
]
