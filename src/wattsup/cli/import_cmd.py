"""``wattsup import``: measurements made by other tools (CodeCarbon, optimum-benchmark, a record file)
into the store, through :mod:`wattsup.results.importers`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wattsup.cli.results_cmd import DbOption
from wattsup.errors import InvalidInput

if TYPE_CHECKING:
    from wattsup.results.importers import ImportOptions, ImportReport
from wattsup.cli.analysis_common import JsonOpt, ParamsOpt, _echo_json

import_app = typer.Typer(
    name="import", help="Import measurements made by other tools into the store.", no_args_is_help=True
)

# ---------------------------------------------------------------- import


def _import_options(
    task: str | None,
    dataset: str | None,
    model: str | None,
    inferences: int,
    device: str | None,
    gpu_method: str,
    cpu_method: str,
    params: Path | None,
    lengths: list[Path] | None,
) -> ImportOptions:
    from wattsup.results.importers import ImportOptions, read_params

    return ImportOptions(
        task=task,
        dataset=dataset,
        model=model,
        inferences=inferences,
        device=device,
        gpu_method=gpu_method,  # type: ignore[arg-type]
        cpu_method=cpu_method,  # type: ignore[arg-type]
        params=read_params(params) if params is not None else None,
        lengths_paths=tuple(lengths or ()),
    )


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


_ImportTask = Annotated[
    str | None, typer.Option("--task", help="The task of every run (default: from the file names).")
]
_ImportDataset = Annotated[
    str | None,
    typer.Option(
        "--dataset", metavar="NAME", help="The dataset of every run (default: from the file names)."
    ),
]
_ImportModel = Annotated[
    str | None,
    typer.Option("--model", help="The model of every run (default: project_name / the report's model)."),
]
_Inferences = Annotated[
    int, typer.Option("--inferences", help="Inferences in each run's window (default: the protocol's 1,000).")
]
_Device = Annotated[
    str | None,
    typer.Option(
        "--device",
        help="What ran the inferences: cuda:0, cpu, ... Default: cuda:0 when the log shows a GPU, else cpu.",
    ),
]
_GpuMethod = Annotated[
    str,
    typer.Option(
        "--gpu-method",
        help="How the GPU energy was obtained: counter (the default: CodeCarbon 2.x and 3.x read NVML's "
        "total-energy counter), sampled (NVML power readings, for GPUs without the counter) or modeled.",
    ),
]
_OptimumGpuMethod = Annotated[
    str,
    typer.Option(
        "--gpu-method",
        help="How the GPU energy was obtained: sampled (the default here), counter or modeled.",
    ),
]
_CpuMethod = Annotated[
    str,
    typer.Option(
        "--cpu-method",
        help="How the CPU energy was obtained: modeled (CodeCarbon's TDP estimate) or counter (RAPL).",
    ),
]
_Lengths = Annotated[
    list[Path] | None,
    typer.Option(
        "--lengths", metavar="PATH", help="Output-length CSVs (Input, Output, model; the study's lengths/)."
    ),
]


@import_app.command("codecarbon")
def import_codecarbon_cmd(
    *,
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="CSV logs, or directories of them.")],
    task: _ImportTask = None,
    dataset: _ImportDataset = None,
    model: _ImportModel = None,
    inferences: _Inferences = 1000,
    device: _Device = None,
    gpu_method: _GpuMethod = "counter",
    cpu_method: _CpuMethod = "modeled",
    params: ParamsOpt = None,
    lengths: _Lengths = None,
    db: DbOption = None,
    as_json: JsonOpt = False,
) -> None:
    """Import CodeCarbon CSV logs, plain or task mode (rows sharing a run_id are one run; task-mode rows
    become its phases). A directory imports every CSV in it."""
    from wattsup.results import Store
    from wattsup.results.importers import import_codecarbon

    opts = _import_options(task, dataset, model, inferences, device, gpu_method, cpu_method, params, lengths)
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
def import_optimum_cmd(
    *,
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="PATH...", help="benchmark.json / benchmark_report.json files or directories."
        ),
    ],
    task: _ImportTask = None,
    dataset: _ImportDataset = None,
    model: _ImportModel = None,
    inferences: _Inferences = 1000,
    gpu_method: _OptimumGpuMethod = "sampled",
    cpu_method: _CpuMethod = "modeled",
    db: DbOption = None,
    as_json: JsonOpt = False,
) -> None:
    """Import optimum-benchmark reports (the AI Energy Score's format)."""
    from wattsup.results import Store
    from wattsup.results.importers import import_optimum

    opts = _import_options(task, dataset, model, inferences, "cuda:0", gpu_method, cpu_method, None, None)
    with Store.open(db) as store:
        _, report = import_optimum(store, paths, opts)
        location = store.location
    _print_import(report, location, as_json, "report")
    if report.runs == 0:
        raise InvalidInput("PATH", "no report could be imported (see the reasons above)")
