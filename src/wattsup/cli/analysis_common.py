"""What the analysis commands share: where their rows go (a table, JSON, a file) and the store they read,
the deployment a life-cycle scenario describes, showing rows as a table, the modelled-energy labels and
warnings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from wattsup.analysis.types import Metric, Scenario, Selection
from wattsup.cli import ui
from wattsup.cli.params import bind
from wattsup.cli.results_cmd import DB_HELP
from wattsup.errors import InvalidInput
from wattsup.params import ParamModel, param

if TYPE_CHECKING:
    from pydantic import BaseModel

T = TypeVar("T")

Many = list[str] | None
SELECTION = ("task", "model", "dataset", "hardware", "mode", "exclude_dataset", "exclude_model")
"""The selection options most commands offer (generated from :class:`~wattsup.analysis.Selection`)."""
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ParamsOpt = Annotated[
    Path | None,
    typer.Option("--params", metavar="CSV", help="Parameter counts: a model_name,num_parameters CSV."),
]


class Rows(ParamModel):
    """Where an analysis command's rows go, and the store it reads them from (``@bind("rows", Rows)``;
    a command without a file to write binds ``include=("as_json", "db")``)."""

    as_json: bool = param(False, "Print JSON instead of a table.", flag="--json")
    out: str | None = param(
        None, "Also write the rows to a file (.csv, .parquet, .json, .jsonl).", flag="--out", metavar="PATH"
    )
    fmt: str | None = param(
        None, "csv, parquet, json or jsonl (default: --out's suffix).", flag="--format", metavar="FORMAT"
    )
    db: str | None = param(None, DB_HELP, flag="--db", metavar="URL")


F = TypeVar("F", bound=Callable[..., Any])


def selected(*include: str) -> Callable[[F], F]:
    """The bound models of an analysis command over a selection of runs: ``sel`` (the :class:`Selection`
    fields named in ``include``), ``metric`` and ``rows``."""
    by_sel = bind("sel", Selection, include=include)
    by_metric = bind("metric", Metric)
    by_rows = bind("rows", Rows)

    def decorate(func: F) -> F:
        return by_sel(by_metric(by_rows(func)))

    return decorate


class Deployment(ParamModel):
    """The deployment of a life-cycle scenario: where, how much and how long it serves, and what training
    cost (the model and task deployed are each command's own options)."""

    kwh_per_1k: float | None = param(
        None, "Energy per 1,000 inferences (default: the runs' mean).", flag="--kwh-per-1k"
    )
    region: str | None = param(None, "Where the deployment runs (ISO code, eGRID, aws:us-west-2, ...).")
    queries_per_day: float = param(1_000_000.0, "Queries per day of the deployment.")
    years: float = param(1.0, "How long the deployment runs (years).")
    training_kwh: float | None = param(None, "Energy of training the model (kWh); unknown if not given.")
    finetune_kwh: float = param(0.0, "Energy of fine-tuning (kWh).")
    gpu: str | None = param(None, "Catalog GPU (default: the runs' hardware).")
    pue: float | None = param(None, "Power usage effectiveness of the site.")

    def scenario(self, **given: Any) -> Scenario:
        """The scenario of this deployment with ``given`` (the task and model deployed, a region)."""
        return Scenario(**{**dict(self), **given})


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


def stored(
    rows: Rows, sel: Selection | None, metric: Metric, compute: Callable[[Any], T]
) -> tuple[T, str | None]:
    """``compute(store)`` on the store ``rows`` names (opened read-only), and the label of the selection's
    modelled energy (None where none is modelled)."""
    from wattsup.results import Store

    with Store.open(rows.db, create=False) as store:
        return compute(store), _modelled(store, sel, metric)


def show(
    found: list[Any],
    rows: Rows,
    columns: Sequence[str],
    cells: Iterable[Sequence[str]],
    *,
    note: str | None,
    title: str | None = None,
    right: Sequence[str] = (),
    footer: Sequence[str] = (),
) -> None:
    """The rows written where ``rows`` says, and unless JSON was asked for, printed as a table of
    ``columns`` (``cells``: a row of text per table row, read only for the table), ``footer`` lines under
    it and the modelled-energy label where there were rows (``right``: the right-aligned columns)."""
    if not _emit(found, rows.as_json, rows.out, rows.fmt):
        return
    table = ui.plain_table(columns, title=title, right=right)
    for line in cells:
        table.add_row(*line)
    ui.console().print(table)
    for text in footer:
        ui.console(soft_wrap=True).print(text)
    _say_modelled(note if found else None)
