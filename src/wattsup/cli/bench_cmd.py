"""``wattsup bench``, ``wattsup suite``, ``wattsup tasks`` and ``wattsup models``: thin wrappers over
:mod:`wattsup.bench`. Heavy libraries (torch, transformers) load only in the worker processes."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wattsup.bench.api import RunOptions
from wattsup.cli import ui
from wattsup.cli.params import bind
from wattsup.cli.results_cmd import DbOption, Recording
from wattsup.errors import InvalidInput
from wattsup.params import build

if TYPE_CHECKING:
    from wattsup.results import RunConfig, RunRecord, Store

from wattsup.cli.bench_text import _print_run, _print_suite, _say_estimate, _say_plan

BENCH_DEFAULTS = {"timeout": "Default: 30 min + 60 s per inference (warm-up + n × reps)."}
"""The run options whose default ``wattsup bench`` works out, with the sentence its help adds."""

SUITE_DEFAULTS = {
    "device": "Default: cuda if torch sees a GPU, else cpu (quick); cuda (paper).",
    "weights": "Default: random for quick, pretrained for paper.",
    "n": "Default: the suite's.",
    "reps": "Default: the suite's.",
    "timeout": "Default: the suite's, per run.",
}
"""The run options ``wattsup suite`` offers, overriding the suite's own values when given."""


def register(app: typer.Typer) -> None:
    app.command("bench")(bench_cmd)
    app.command("suite")(suite_cmd)
    app.command("tasks")(tasks_cmd)
    app.command("models")(models_cmd)


def _columns(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for p in pairs or []:
        field, sep, col = p.partition("=")
        if not sep or not field or not col:
            raise InvalidInput("--column", f"expected FIELD=NAME (e.g. text=review), got {p!r}")
        out[field.strip()] = col.strip()
    return out


def _check_choice(flag: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InvalidInput(flag, f"must be one of {', '.join(choices)}, got {value!r}")


def _keep(store: Store | None, record: RunRecord) -> tuple[str | None, str | None]:
    """Store ``record``: (where it is stored, None), or, if storing fails, (None, a sentence saying where
    the record was written instead and how to store it later). Nothing measured is lost."""
    if store is None:
        return None, None
    from wattsup.results.fallback import keep_or_save

    problem = keep_or_save(store, record)
    return (None, problem) if problem else (store.location, None)


def _open_store(db: str | None) -> Store:
    """The store, opened and checked before anything is measured (a broken store fails at once)."""
    from wattsup.results import Store

    return Store.open(db)


TaskOpt = Annotated[str, typer.Argument(help="Task name or alias; see 'wattsup tasks'.")]

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Hub id, local folder, or catalog name.")]

DatasetOpt = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        "-d",
        help="Profile name (synthetic, offline), local file or folder, or hub:ID[:CONFIG][@SPLIT]. "
        "Default: the task's first study dataset, as a synthetic profile.",
    ),
]

ColumnOpt = Annotated[
    list[str] | None,
    typer.Option("--column", help="FIELD=NAME: which column feeds a field (repeatable)."),
]

TrustRemoteCodeOpt = Annotated[
    bool,
    typer.Option("--trust-remote-code", help="Allow the model's own code from the Hub (never implied)."),
]

TokenizerOpt = Annotated[
    str | None,
    typer.Option(
        "--tokenizer",
        help="'synthetic': wattsup's synthetic tokenizer sized to the model's vocabulary, for a local "
        "model folder saved without its tokenizer (default: the model's own).",
    ),
]


NameOpt = Annotated[
    str, typer.Argument(help="quick (tiny models, CPU, minutes) or paper (study models, GPU).")
]

TasksOpt = Annotated[list[str] | None, typer.Option("--tasks", help="Only these tasks (repeatable).")]

HubInputsOpt = Annotated[
    bool,
    typer.Option(
        "--hub-inputs", help="Stream the study's datasets from the Hub instead of the synthetic profiles."
    ),
]

RegionOpt = Annotated[str, typer.Option("--region", help="Grid region for gCO2e (see 'wattsup grid').")]

AgainOpt = Annotated[
    bool,
    typer.Option(
        "--again",
        help="Measure every run again, even those the store holds already (they stay in the store).",
    ),
]

SuiteAsJsonOpt = Annotated[bool, typer.Option("--json", help="Print the runs as JSON lines.")]


def _extra(column: list[str] | None, trust_remote_code: bool, tokenizer: str | None) -> dict[str, Any]:
    """The run's per-task settings from --column, --trust-remote-code and --tokenizer."""
    extra: dict[str, Any] = {}
    if column:
        extra["columns"] = _columns(column)
    if trust_remote_code:
        extra["trust_remote_code"] = True
    if tokenizer is not None:
        _check_choice("--tokenizer", tokenizer, ("synthetic",))
        extra["tokenizer"] = tokenizer
    return extra


@bind("run", RunOptions, unset=BENCH_DEFAULTS)
@bind("out", Recording)
def bench_cmd(
    task: TaskOpt,
    model: ModelOpt,
    run: RunOptions,
    dataset: DatasetOpt = None,
    column: ColumnOpt = None,
    trust_remote_code: TrustRemoteCodeOpt = False,
    tokenizer: TokenizerOpt = None,
    *,
    out: Recording,
) -> None:
    """Measure the energy of N inferences of a model on a task, in a subprocess of its own."""
    from wattsup.bench import make_config, record_json
    from wattsup.bench.api import default_timeout_s
    from wattsup.bench.runner import run_isolated
    from wattsup.cli.progress import RunProgress, wanted

    extra = _extra(column, trust_remote_code, tokenizer)
    config = make_config(task, model, dataset, run, extra=extra)
    console = ui.console()
    timeout_s = run.timeout if run.timeout is not None else default_timeout_s(config)
    store = None if out.no_store else _open_store(out.db)
    try:
        if not out.as_json:
            console.print(
                f"[bold]{config.task}[/] · {config.model} ({config.weights}) · {config.dataset} · "
                f"n={config.n} × {config.reps} reps on {config.device}"
            )
            _say_estimate(console, config, store, timeout_s)
        unit = "inferences" if config.batch_size == 1 else "batches"
        with RunProgress(wanted(out.as_json), unit=unit) as bar:
            record = run_isolated(config, timeout_s=timeout_s, progress=bar.stage)
        where, unstored = _keep(store, record)
    finally:
        if store is not None:
            store.close()
    data = record_json(record)
    if out.as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        _print_run(console, data, where)
    if unstored:
        typer.echo(f"wattsup: warning: {unstored}", err=True)
        raise typer.Exit(1)
    if record.status != "ok":
        raise typer.Exit(1)


@bind("run", RunOptions, include=SUITE_DEFAULTS, values=True, unset=SUITE_DEFAULTS)
def suite_cmd(
    name: NameOpt,
    run: dict[str, Any],
    tasks: TasksOpt = None,
    hub_inputs: HubInputsOpt = False,
    region: RegionOpt = "WORLD",
    again: AgainOpt = False,
    db: DbOption = None,
    as_json: SuiteAsJsonOpt = False,
) -> None:
    """Run a named suite, resuming: configurations already completed in the store are skipped and their
    stored figures shown (say so with --again to measure them again)."""
    from wattsup.bench import record_json, suite_configs
    from wattsup.bench.api import check_device, validate
    from wattsup.bench.protocol import normalise
    from wattsup.bench.runner import run_isolated
    from wattsup.bench.suites import SUITES
    from wattsup.carbon.grid import grid_intensity
    from wattsup.cli.progress import RunProgress, wanted

    opts: RunOptions = build(RunOptions, run)
    overrides = {k: getattr(opts, k) for k in run if k != "timeout"}
    intensity = grid_intensity(region)
    configs = [normalise(c) for c in suite_configs(name, tasks, hub_inputs=hub_inputs, **overrides)]
    for c in configs:
        validate(c, device_here=False)
    for dev in sorted({c.device for c in configs}):
        check_device(dev)
    console = ui.console()
    per_run_timeout = opts.timeout if opts.timeout is not None else float(SUITES[name]["timeout_s"])
    results: list[tuple[RunConfig, dict[str, Any] | None, str]] = []
    unstored: list[str] = []
    with _open_store(db) as store:
        todo, skipped = _plan(store, configs, again, results)
        if not as_json:
            _say_plan(console, name, len(configs), todo, skipped, store, per_run_timeout)
        started = time.monotonic()
        with RunProgress(wanted(as_json), runs=len(todo)) as bar:
            for c in todo:
                bar.run_started(f"{c.task} · {c.model}")
                record = run_isolated(c, timeout_s=per_run_timeout, progress=bar.stage)
                bar.run_finished()
                _, problem = _keep(store, record)
                if problem:
                    unstored.append(problem)
                    typer.echo(f"wattsup: warning: {problem}", err=True)
                data = record_json(record)
                results.append((c, data, "ok" if record.status == "ok" else "failed"))
                if as_json:
                    typer.echo(json.dumps(data, default=str))
        elapsed = time.monotonic() - started
    order = {c.config_hash(): i for i, c in enumerate(configs)}
    results.sort(key=lambda r: order[r[0].config_hash()])
    if not as_json:
        _print_suite(console, results, intensity.intensity_g_per_kwh, intensity.label, elapsed, len(todo))
    if unstored or any(s == "failed" for _, _, s in results):
        raise typer.Exit(1)


def _plan(
    store: Store, configs: list[RunConfig], again: bool, results: list[tuple[RunConfig, Any, str]]
) -> tuple[list[RunConfig], list[RunConfig]]:
    """Which runs to measure now and which are stored already (their figures go to ``results``, so that
    a resumed suite's table is whole); runs that need a missing extra are listed as skipped."""
    from wattsup.bench import record_json
    from wattsup.bench.suites import needs_missing_extra
    from wattsup.results import RunFilter

    todo, skipped = [], []
    for c in configs:
        extra = needs_missing_extra(c)
        if not again and store.has_completed(c):
            skipped.append(c)
            # the stored figures, so that a resumed suite's table is whole
            (latest,) = store.list_runs(RunFilter(config_hash=c.config_hash(), status="ok"), limit=1)
            when = latest.started_at.strftime("%Y-%m-%d %H:%M")
            results.append((c, record_json(store.get(latest.run_id)), f"stored ({when})"))
        elif extra is not None:
            results.append((c, None, f"skipped: needs the '{extra}' extra"))
        else:
            todo.append(c)
    return todo, skipped


def tasks_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the tasks, what they measure and their synthetic input profiles."""
    from rich.table import Table

    from wattsup.bench.inputs import load_profiles
    from wattsup.bench.tasks import TASKS

    profiles = load_profiles()
    rows: list[dict[str, Any]] = []
    for info in TASKS:
        rows.append(
            {
                "task": info.name,
                "aliases": list(info.aliases),
                "description": info.description,
                "unit": info.unit,
                "max_new_tokens": info.max_new_tokens,
                "in_study": info.in_study,
                "datasets": [p.name for p in profiles.values() if info.name in p.tasks],
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    t = Table(title="tasks (zero-shot mode: text-classification, question-answering, summarization)")
    for col in ("task", "what", "unit", "dataset profiles"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["task"], r["description"], r["unit"], ", ".join(r["datasets"]))
    ui.console().print(t)


def models_cmd(
    task: Annotated[str | None, typer.Option("--task", help="Only models for this task.")] = None,
    family: Annotated[
        str | None,
        typer.Option("--family", help="study-task-specific, study-multi-purpose, popular or tiny."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the model catalog (every entry also runs with --weights random, no download)."""

    from wattsup.bench.catalog import load_catalog
    from wattsup.bench.tasks import get_task_info

    families = ("study-task-specific", "study-multi-purpose", "popular", "tiny")
    if family is not None:
        _check_choice("--family", family, families)
    name = get_task_info(task).name if task else None
    entries = load_catalog().for_task(name, family)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "id": e.id,
                        "tasks": e.tasks(),
                        "family": e.family,
                        "model_type": e.model_type,
                        "num_parameters": e.num_parameters,
                        "parameters_source": e.parameters_source,
                        "random_weights": e.random_weights,
                    }
                    for e in entries
                ],
                indent=2,
            )
        )
        return
    t = ui.table(
        ("model", "tasks", "family", "architecture", "parameters"),
        right=("parameters",),
        title=f"{len(entries)} catalog models" + (f" for {name}" if name else ""),
    )
    for e in entries:
        t.add_row(
            e.id,
            ", ".join(e.tasks()),
            e.family,
            e.model_type,
            f"{e.num_parameters:,}" if e.num_parameters else "",
        )
    ui.console().print(t)
