"""``wattsup import``, ``summary``, ``leaderboard``, ``analyze``, ``compare``, ``label`` and ``report``:
thin wrappers over :mod:`wattsup.results.importers`, :mod:`wattsup.analysis` and :mod:`wattsup.report`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wattsup.cli import ui
from wattsup.cli.results_cmd import DbOption
from wattsup.errors import InvalidInput

if TYPE_CHECKING:
    from pydantic import BaseModel

    from wattsup.analysis import Metric, Selection
    from wattsup.results.importers import ImportOptions, ImportReport

Many = list[str] | None
TaskOpt = Annotated[Many, typer.Option("--task", help="Only this task (repeatable; globs: '*').")]
ModelOpt = Annotated[Many, typer.Option("--model", help="Only this model (repeatable; globs).")]
DatasetOpt = Annotated[Many, typer.Option("--dataset", help="Only this dataset (repeatable; globs).")]
HardwareOpt = Annotated[Many, typer.Option("--hardware", help="Only this GPU or CPU (repeatable; globs).")]
ModeOpt = Annotated[
    Many, typer.Option("--mode", help="Only task-specific or zero-shot (multi-purpose) runs (repeatable).")
]
ExclDatasetOpt = Annotated[
    Many, typer.Option("--exclude-dataset", help="Leave out this dataset (repeatable; globs: '*_native').")
]
ExclModelOpt = Annotated[
    Many, typer.Option("--exclude-model", help="Leave out this model (repeatable; globs).")
]
PhaseOpt = Annotated[
    str | None,
    typer.Option(
        "--phase",
        metavar="NAME",
        help="Energy of one phase ('query model', 'generate/decode', ...; 'load': the model-load window, "
        "per load) instead of the whole repetition window.",
    ),
]
ComponentOpt = Annotated[
    str, typer.Option("--component", help="all, or one class of components: gpu, cpu or ram.")
]
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

import_app = typer.Typer(
    name="import", help="Import measurements made by other tools into the store.", no_args_is_help=True
)
analyze_app = typer.Typer(
    name="analyze",
    help="Analyses of stored runs: size, multi-purpose models, output length, parity, life cycle, ratings.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app)
    app.command("summary")(summary_cmd)
    app.command("leaderboard")(leaderboard_cmd)
    app.add_typer(analyze_app)
    app.command("compare")(compare_cmd)
    app.command("label")(label_cmd)
    app.command("report")(report_cmd)


# ---------------------------------------------------------------- helpers


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _selection(
    task: Many = None,
    model: Many = None,
    dataset: Many = None,
    hardware: Many = None,
    mode: Many = None,
    exclude_dataset: Many = None,
    exclude_model: Many = None,
) -> Selection:
    from wattsup.analysis import Selection

    for m in mode or []:
        if m not in ("task-specific", "zero-shot") and "*" not in m and "?" not in m:
            raise InvalidInput("--mode", f"must be task-specific or zero-shot, got {m!r}")
    return Selection(
        task=task or None,
        model=model or None,
        dataset=dataset or None,
        hardware=hardware or None,
        mode=mode or None,
        exclude_dataset=tuple(exclude_dataset or ()),
        exclude_model=tuple(exclude_model or ()),
    )


def _metric(phase: str | None, component: str) -> Metric:
    from wattsup.analysis import COMPONENTS, Metric

    if component not in COMPONENTS:
        raise InvalidInput("--component", f"must be one of {', '.join(COMPONENTS)}, got {component!r}")
    if phase is not None and not phase.strip():
        raise InvalidInput("--phase", "is empty; give a phase name such as 'query model' or 'load'")
    return Metric(phase=phase, component=component)  # type: ignore[arg-type]


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


# ---------------------------------------------------------------- summary and leaderboard


def summary_cmd(
    *,
    by: Annotated[
        str, typer.Option("--by", help="task (statistics over models) or model (one row per model).")
    ] = "task",
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    task: TaskOpt = None,
    model: ModelOpt = None,
    dataset: DatasetOpt = None,
    hardware: HardwareOpt = None,
    mode: ModeOpt = None,
    exclude_dataset: ExclDatasetOpt = None,
    exclude_model: ExclModelOpt = None,
    ci: Annotated[
        bool, typer.Option("--ci", help="Add a 95% bootstrap interval of each task's mean.")
    ] = False,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """Energy per task: mean, standard deviation, median, minimum and maximum over models of kWh per
    1,000 inferences (each model first averaged over its runs and datasets), and the model count."""
    from wattsup.analysis import model_energies, summary_by_task, task_intervals
    from wattsup.analysis.uncertainty import MIN_INTERVAL_MODELS
    from wattsup.results import Store

    if by not in ("task", "model"):
        raise InvalidInput("--by", f"must be task or model, got {by!r}")
    sel = _selection(task, model, dataset, hardware, mode, exclude_dataset, exclude_model)
    metric = _metric(phase, component)
    with Store.open(db, create=False) as store:
        location = store.location
        note = _modelled(store, sel, metric)
        if by == "model":
            models = model_energies(store, sel, metric)
            _warn_mixed(store, sel, metric)
            _write(list(models), out, fmt)
            if as_json:
                _echo_json([m.model_dump(mode="json") for m in models])
                return
            _print_models(models, location, metric.unit)
            _say_modelled(note if models else None)
            return
        rows = summary_by_task(store, sel, metric)
        intervals = {t.task: t for t in task_intervals(store, sel, metric)} if ci else {}
    mixed = [r.task for r in rows if r.mixes_measured_and_modeled]
    if mixed:
        typer.echo(
            f"warning: {', '.join(mixed)}: the figures add measured and modelled (estimated) components; "
            "--component gpu shows measured figures only ('wattsup analyze warnings' lists the models)",
            err=True,
        )
    _write(list(rows), out, fmt)
    if as_json:
        data = []
        for r in rows:
            obj = r.to_public()
            if ci:
                iv = intervals.get(r.task)
                obj["ci95"] = (
                    None if iv is None or iv.interval is None else [iv.interval.low, iv.interval.high]
                )
            data.append(obj)
        _echo_json(data)
        return
    console = ui.console()
    if not rows:
        _empty(console, location)
        return
    cols = ("task", "models", "runs", "mean", "std", "median", "min", "max")
    table = ui.plain_table(cols, title=f"{rows[0].unit}, over models", right=cols[1:])
    if ci:
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
        if ci:
            iv = intervals.get(r.task)
            cells.append(
                f"{iv.interval.low:.3g}–{iv.interval.high:.3g}"
                if iv is not None and iv.interval is not None
                else f"n/a (< {MIN_INTERVAL_MODELS} models)"
            )
        table.add_row(*cells)
    console.print(table)
    console.print(f"{sum(r.runs for r in rows)} runs in {location}")
    _say_modelled(note)


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


def leaderboard_cmd(
    *,
    task_name: Annotated[str, typer.Argument(metavar="TASK", help="The task to rank models on.")],
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    model: ModelOpt = None,
    dataset: DatasetOpt = None,
    hardware: HardwareOpt = None,
    mode: ModeOpt = None,
    exclude_dataset: ExclDatasetOpt = None,
    exclude_model: ExclModelOpt = None,
    hardware_class: Annotated[
        str | None, typer.Option("--hardware-class", help="Only one hardware class (A100, H100, CPU, ...).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many rows.")] = None,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """A task's models from least to most energy, with star ratings within the hardware class."""
    from wattsup.analysis import leaderboard
    from wattsup.results import Store

    sel = _selection(None, model, dataset, hardware, mode, exclude_dataset, exclude_model)
    metric = _metric(phase, component)
    with Store.open(db, create=False) as store:
        rows = leaderboard(store, task_name, sel, metric, hardware_class=hardware_class, limit=limit)
        note = _modelled(store, dataclasses.replace(sel, task=task_name), metric)
    _write(list(rows), out, fmt)
    if as_json:
        _echo_json([r.model_dump(mode="json") for r in rows])
        return
    table = ui.plain_table(
        ("rank", "model", "mode", "energy", "basis", "stars", "class", "runs", "parameters"),
        title=f"{task_name}: {metric.unit}",
        right=("rank", "energy", "runs", "parameters"),
    )
    for r in rows:
        table.add_row(
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
    ui.console().print(table)
    _say_modelled(note if rows else None)


# ---------------------------------------------------------------- analyze


def _emit(rows: list[Any], as_json: bool, out: str | None, fmt: str | None) -> bool:
    """Write/print JSON when asked; returns whether the caller should still print a table."""
    _write(rows, out, fmt)
    if as_json:
        _echo_json([r.model_dump(mode="json") for r in rows])
        return False
    return True


@analyze_app.command("params")
def params_cmd(
    *,
    params: ParamsOpt = None,
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    task: TaskOpt = None,
    model: ModelOpt = None,
    dataset: DatasetOpt = None,
    hardware: HardwareOpt = None,
    mode: ModeOpt = None,
    exclude_dataset: ExclDatasetOpt = None,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """Energy against parameter count per task: log-log fit, Pearson and Spearman correlation."""
    from wattsup.analysis import energy_vs_params, read_model_parameters
    from wattsup.results import Store

    mapping = read_model_parameters(params) if params is not None else None
    sel = _selection(task, model, dataset, hardware, mode, exclude_dataset)
    with Store.open(db, create=False) as store:
        fits = energy_vs_params(store, sel, _metric(phase, component), params=mapping)
        note = _modelled(store, sel, _metric(phase, component))
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
def modes_cmd(
    *,
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    task: TaskOpt = None,
    model: ModelOpt = None,
    dataset: DatasetOpt = None,
    hardware: HardwareOpt = None,
    exclude_dataset: ExclDatasetOpt = None,
    exclude_model: ExclModelOpt = None,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """Multi-purpose (zero-shot) against task-specific models per task: ratio of the means, per dataset
    too."""
    from wattsup.analysis import multi_vs_task
    from wattsup.results import Store

    sel = _selection(task, model, dataset, hardware, None, exclude_dataset, exclude_model)
    with Store.open(db, create=False) as store:
        rows = multi_vs_task(store, sel, _metric(phase, component))
        note = _modelled(store, sel, _metric(phase, component))
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
def lengths_cmd(
    *,
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    task: TaskOpt = None,
    model: ModelOpt = None,
    dataset: DatasetOpt = None,
    mode: ModeOpt = None,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    db: DbOption = None,
) -> None:
    """Output length against energy by model family (decoder-only, encoder-decoder): linear fits."""
    from wattsup.analysis import output_length_vs_energy
    from wattsup.results import Store

    sel = _selection(task, model, dataset, None, mode)
    with Store.open(db, create=False) as store:
        fits = output_length_vs_energy(store, sel, _metric(phase, component))
        note = _modelled(store, sel, _metric(phase, component))
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
def parity_cmd(
    *,
    training_kwh: Annotated[float, typer.Option("--training-kwh", help="Energy of training (kWh).")],
    finetune_kwh: Annotated[float, typer.Option("--finetune-kwh", help="Energy of fine-tuning (kWh).")] = 0.0,
    queries_per_day: Annotated[
        float | None, typer.Option("--queries-per-day", help="To express parity in days.")
    ] = None,
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    task: TaskOpt = None,
    model: ModelOpt = None,
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
            _selection(task, model),
            _metric(phase, component),
            finetune_kwh=finetune_kwh,
            queries_per_day=queries_per_day,
        )
        note = _modelled(store, _selection(task, model), _metric(phase, component))
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


@analyze_app.command("lifecycle")
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
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
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
        b = lifecycle(store, scenario, None, _metric(phase, component))
        note = _modelled(
            store,
            _selection([task] if task else None, [model] if model else None),
            _metric(phase, component),
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
def ratings_cmd(
    *,
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    task: TaskOpt = None,
    model: ModelOpt = None,
    dataset: DatasetOpt = None,
    hardware: HardwareOpt = None,
    mode: ModeOpt = None,
    exclude_dataset: ExclDatasetOpt = None,
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
            _selection(task, model, dataset, hardware, mode, exclude_dataset),
            _metric(phase, component),
        )
        note = _modelled(
            store,
            _selection(task, model, dataset, hardware, mode, exclude_dataset),
            _metric(phase, component),
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
def warnings_cmd(
    *,
    task: TaskOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    db: DbOption = None,
) -> None:
    """Where measured and modelled components are added into one figure."""
    from wattsup.analysis import mixed_method_warnings
    from wattsup.results import Store

    with Store.open(db, create=False) as store:
        rows = mixed_method_warnings(store, _selection(task, model))
    if as_json:
        _echo_json([r.model_dump(mode="json") for r in rows])
        return
    for r in rows:
        typer.echo(r.message)
    if not rows:
        typer.echo("no figure mixes measured and modelled components")


# ---------------------------------------------------------------- compare, label, report


def compare_cmd(
    *,
    run_ids: Annotated[
        list[str], typer.Argument(metavar="RUN_ID...", help="Two or more runs (ids or unique prefixes).")
    ],
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    as_json: JsonOpt = False,
    db: DbOption = None,
) -> None:
    """Runs side by side: energy with its 95% interval, ratio to the first run and whether it differs from
    the first beyond both intervals, and every phase."""
    from wattsup.analysis import compare_runs
    from wattsup.results import Store

    with Store.open(db, create=False) as store:
        c = compare_runs(store, run_ids, _metric(phase, component))
    if as_json:
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


def label_cmd(
    *,
    model_name: Annotated[str, typer.Argument(metavar="MODEL", help="The model, as stored.")],
    task_name: Annotated[str, typer.Option("--task", help="The task the label is for.")],
    out: Annotated[
        Path, typer.Option("--out", metavar="FILE", help="Where to write the label: .svg or .png.")
    ],
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    dataset: DatasetOpt = None,
    hardware: HardwareOpt = None,
    mode: ModeOpt = None,
    exclude_dataset: ExclDatasetOpt = None,
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
            _selection(None, None, dataset, hardware, mode, exclude_dataset),
            _metric(phase, component),
        )
    path = write_label(label, out)
    stars = f"{label.stars} stars" if label.stars is not None else "not rated"
    typer.echo(f"wrote {path}: {label.model} on {label.task}, {ui.num(label.kwh)} {label.unit}, {stars}")


def report_cmd(
    *,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="The directory to write the report into.")
    ] = Path("wattsup-report"),
    title: Annotated[str, typer.Option("--title", help="The report's title.")] = "wattsup report",
    phase: PhaseOpt = None,
    component: ComponentOpt = "all",
    task: TaskOpt = None,
    model: ModelOpt = None,
    dataset: DatasetOpt = None,
    hardware: HardwareOpt = None,
    mode: ModeOpt = None,
    exclude_dataset: ExclDatasetOpt = None,
    exclude_model: ExclModelOpt = None,
    params: ParamsOpt = None,
    region: Annotated[
        str, typer.Option("--region", help="Life-cycle scenario: where the deployment runs.")
    ] = "WORLD",
    queries_per_day: ScenarioQueries = 1_000_000.0,
    years: ScenarioYears = 1.0,
    training_kwh: ScenarioTraining = None,
    finetune_kwh: ScenarioFinetune = 0.0,
    gpu: ScenarioGpu = None,
    pue: ScenarioPue = None,
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
    db: DbOption = None,
) -> None:
    """A self-contained offline HTML report, PNG figures and a Markdown table of the stored runs."""
    from wattsup.analysis import ReportOptions, Scenario, read_model_parameters
    from wattsup.report import build_report
    from wattsup.results import Store

    options = ReportOptions(
        selection=_selection(task, model, dataset, hardware, mode, exclude_dataset, exclude_model),
        metric=_metric(phase, component),
        scenario=Scenario(
            task=scenario_task,
            model=scenario_model,
            region=region,
            queries_per_day=queries_per_day,
            years=years,
            training_kwh=training_kwh,
            finetune_kwh=finetune_kwh,
            gpu=gpu,
            pue=pue,
        ),
        title=title,
    )
    mapping = read_model_parameters(params) if params is not None else None
    with Store.open(db, create=False) as store:
        files = build_report(store, out, options, location=store.location, params=mapping)
    typer.echo(
        f"wrote {files.html}, {files.markdown}, {files.csv} and {len(files.figures)} figures in "
        f"{files.directory / 'figures'}"
    )
    for n in files.notes:
        typer.echo(f"note: {n}", err=True)
