"""``wattsup bench``, ``wattsup suite``, ``wattsup tasks`` and ``wattsup models``: thin wrappers over
:mod:`wattsup.bench`. Heavy libraries (torch, transformers) load only in the worker processes."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wattsup.cli import ui
from wattsup.cli.results_cmd import DbOption
from wattsup.errors import InvalidInput
from wattsup.format import sig

if TYPE_CHECKING:
    from rich.console import Console

    from wattsup.results import RunConfig, RunRecord, Store

WEIGHTS = ("pretrained", "random")


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


def _sig3(v: float | None) -> str:
    return sig(v, ".3g")


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


def _say_estimate(console: Console, config: RunConfig, store: Store | None, timeout_s: float) -> None:
    from wattsup.results.estimate import estimate, say_duration

    found = None if store is None else estimate(config, store)
    stop = f"stopped if it runs past {say_duration(timeout_s)} (--timeout)"
    if found is not None:
        console.print(f"estimate: about {say_duration(found.seconds)} ({found.basis}); {stop}")
    else:
        console.print(
            f"estimate: none yet (no earlier run of this model and setup in the store); rate and time "
            f"left show as it runs; {stop}"
        )


def bench_cmd(
    task: Annotated[str, typer.Argument(help="Task name or alias; see 'wattsup tasks'.")],
    model: Annotated[str, typer.Option("--model", "-m", help="Hub id, local folder, or catalog name.")],
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            "-d",
            help="Profile name (synthetic, offline), local file or folder, or hub:ID[:CONFIG][@SPLIT]. "
            "Default: the task's first study dataset, as a synthetic profile.",
        ),
    ] = None,
    n: Annotated[int, typer.Option("-n", help="Inferences per repetition.", min=1)] = 1000,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 1,
    reps: Annotated[int, typer.Option("--reps", min=1, help="Metered repetitions.")] = 3,
    warmup: Annotated[int, typer.Option("--warmup", min=0, help="Unmetered inferences first.")] = 10,
    weights: Annotated[
        str, typer.Option("--weights", help="pretrained or random (catalog architecture, no download).")
    ] = "pretrained",
    device: Annotated[str, typer.Option("--device", help="cpu, cuda or cuda:N.")] = "cpu",
    dtype: Annotated[str, typer.Option("--dtype", help="float32, float16 or bfloat16.")] = "float32",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    max_new_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-new-tokens", min=1, help="Fixed output length (min = max, EOS off). Default: the task's."
        ),
    ] = None,
    zero_shot: Annotated[
        bool,
        typer.Option(
            "--zero-shot",
            help="Prompt a multi-purpose model for the task (automatic for catalog multi-purpose models).",
        ),
    ] = False,
    column: Annotated[
        list[str] | None,
        typer.Option("--column", help="FIELD=NAME: which column feeds a field (repeatable)."),
    ] = None,
    trust_remote_code: Annotated[
        bool,
        typer.Option("--trust-remote-code", help="Allow the model's own code from the Hub (never implied)."),
    ] = False,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            "--tokenizer",
            help="'synthetic': wattsup's synthetic tokenizer sized to the model's vocabulary, for a local "
            "model folder saved without its tokenizer (default: the model's own).",
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Seconds before the run is stopped. Default: 30 min + 60 s per inference "
            "(warm-up + n × reps).",
        ),
    ] = None,
    db: DbOption = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Do not record the run in the store.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Measure the energy of N inferences of a model on a task, in a subprocess of its own."""
    from wattsup.bench import make_config, record_json
    from wattsup.bench.api import check_timeout, default_timeout_s
    from wattsup.bench.runner import run_isolated
    from wattsup.cli.progress import RunProgress, wanted

    _check_choice("--weights", weights, WEIGHTS)
    timeout = check_timeout(timeout)
    extra: dict[str, Any] = {}
    if column:
        extra["columns"] = _columns(column)
    if trust_remote_code:
        extra["trust_remote_code"] = True
    if tokenizer is not None:
        _check_choice("--tokenizer", tokenizer, ("synthetic",))
        extra["tokenizer"] = tokenizer
    config = make_config(
        task,
        model,
        dataset,
        n=n,
        batch_size=batch_size,
        reps=reps,
        warmup=warmup,
        weights=weights,
        device=device,
        dtype=dtype,
        seed=seed,
        max_new_tokens=max_new_tokens,
        zero_shot=zero_shot,
        extra=extra,
    )
    console = ui.console()
    timeout_s = timeout if timeout is not None else default_timeout_s(config)
    store = None if no_store else _open_store(db)
    try:
        if not as_json:
            console.print(
                f"[bold]{config.task}[/] · {config.model} ({config.weights}) · {config.dataset} · "
                f"n={config.n} × {config.reps} reps on {config.device}"
            )
            _say_estimate(console, config, store, timeout_s)
        unit = "inferences" if config.batch_size == 1 else "batches"
        with RunProgress(wanted(as_json), unit=unit) as bar:
            record = run_isolated(config, timeout_s=timeout_s, progress=bar.stage)
        where, unstored = _keep(store, record)
    finally:
        if store is not None:
            store.close()
    data = record_json(record)
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        _print_run(console, data, where)
    if unstored:
        typer.echo(f"wattsup: warning: {unstored}", err=True)
        raise typer.Exit(1)
    if record.status != "ok":
        raise typer.Exit(1)


def _print_run(console: Console, data: dict[str, Any], where: str | None) -> None:
    from rich.table import Table

    if data["status"] != "ok":
        console.print(f"[red]failed[/]: {data['error']}")
        return
    t = Table(title=f"run {data['run_id'][:12]}", show_header=True)
    t.add_column("figure")
    t.add_column("mean", justify="right")
    t.add_column("95% interval", justify="right")
    lo, hi = data["energy_kwh_per_1k_ci95"]
    t.add_row(
        "kWh per 1,000 inferences",
        _sig3(data["energy_kwh_per_1k"]),
        f"{_sig3(lo)} – {_sig3(hi)}" if lo is not None else "one rep",
    )
    t.add_row("  GPU only", _sig3(data["gpu_energy_kwh_per_1k"]), "")
    for name, v in data["phases"].items():
        t.add_row(f"  phase {name}", _sig3(v), "")
    if data.get("energy_j_per_unit"):
        t.add_row(f"J per {data['unit']}", _sig3(data["energy_j_per_unit"]["mean"]), "")
    for key, label in (
        ("latency_p50_s", "latency p50 (s)"),
        ("latency_p95_s", "latency p95 (s)"),
        ("throughput_per_s", "inferences per second"),
    ):
        if data.get(key):
            t.add_row(label, _sig3(data[key]["mean"]), "")
    console.print(t)
    console.print(f"inputs: {data['input_source']}")
    console.print(f"weights: {data['weights_source']}")
    console.print("sensors: " + ", ".join(f"{k} ({v})" for k, v in data.get("components", {}).items()))
    share = data.get("background_cpu_share")
    if share is not None:
        console.print(f"host: other processes used {share:.0%} of the CPUs during the measured windows")
    for w in data.get("warnings", []):
        console.print(f"[yellow]warning:[/] {w}")
    if where:
        console.print(f"stored in {where}")


def suite_cmd(
    name: Annotated[
        str, typer.Argument(help="quick (tiny models, CPU, minutes) or paper (study models, GPU).")
    ],
    tasks: Annotated[list[str] | None, typer.Option("--tasks", help="Only these tasks (repeatable).")] = None,
    device: Annotated[
        str | None,
        typer.Option("--device", help="Default: cuda if torch sees a GPU, else cpu (quick); cuda (paper)."),
    ] = None,
    weights: Annotated[
        str | None, typer.Option("--weights", help="Default: random for quick, pretrained for paper.")
    ] = None,
    n: Annotated[int | None, typer.Option("-n", min=1, help="Override the suite's n.")] = None,
    reps: Annotated[int | None, typer.Option("--reps", min=1)] = None,
    hub_inputs: Annotated[
        bool,
        typer.Option(
            "--hub-inputs", help="Stream the study's datasets from the Hub instead of the synthetic profiles."
        ),
    ] = False,
    region: Annotated[
        str, typer.Option("--region", help="Grid region for gCO2e (see 'wattsup grid').")
    ] = "WORLD",
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds per run before it is stopped.")
    ] = None,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Measure every run again, even those the store holds already (they stay in the store).",
        ),
    ] = False,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON lines.")] = False,
) -> None:
    """Run a named suite, resuming: configurations already completed in the store are skipped and their
    stored figures shown (say so with --again to measure them again)."""
    from wattsup.bench import record_json, suite_configs
    from wattsup.bench.api import check_device, check_timeout, validate
    from wattsup.bench.protocol import normalise
    from wattsup.bench.runner import run_isolated
    from wattsup.bench.suites import SUITES, needs_missing_extra
    from wattsup.carbon.grid import grid_intensity
    from wattsup.cli.progress import RunProgress, wanted
    from wattsup.results import RunFilter
    from wattsup.results.estimate import estimate, say_duration

    if weights is not None:
        _check_choice("--weights", weights, WEIGHTS)
    timeout = check_timeout(timeout)
    intensity = grid_intensity(region)
    configs = [
        normalise(c)
        for c in suite_configs(
            name, tasks, device=device, weights=weights, n=n, reps=reps, hub_inputs=hub_inputs
        )
    ]
    for c in configs:
        validate(c, device_here=False)
    for dev in sorted({c.device for c in configs}):
        check_device(dev)
    console = ui.console()
    per_run_timeout = timeout if timeout is not None else float(SUITES[name]["timeout_s"])
    results: list[tuple[RunConfig, dict[str, Any] | None, str]] = []
    unstored: list[str] = []
    with _open_store(db) as store:
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
        if not as_json:
            left_out = len(configs) - len(todo) - len(skipped)
            console.print(
                f"suite [bold]{name}[/]: {len(configs)} runs: {len(todo)} to measure now, "
                f"{len(skipped)} already in {store.location}"
                + (" (shown, not measured again: add --again to measure them)" if skipped else "")
                + (f", {left_out} skipped" if left_out else "")
            )
            guesses = [estimate(c, store) for c in todo]
            known = [g.seconds for g in guesses if g is not None]
            if todo:
                console.print(
                    f"estimate: about {say_duration(sum(known))} for {len(known)} of {len(todo)} runs, "
                    "from earlier runs of the same models here"
                    + (f"; {len(todo) - len(known)} have none to go by" if len(known) < len(todo) else "")
                    if known
                    else f"estimate: none yet (no earlier run of these models here); each run is stopped "
                    f"after {say_duration(per_run_timeout)}"
                )
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


def _print_suite(
    console: Console,
    results: list[tuple[RunConfig, dict[str, Any] | None, str]],
    g_per_kwh: float,
    region: str,
    elapsed_s: float,
    measured: int,
) -> None:
    from rich.table import Table

    t = Table(title=f"kWh and gCO2e per 1,000 inferences (grid: {region}, {g_per_kwh:g} g/kWh)")
    for col, just in (
        ("task", "left"),
        ("model", "left"),
        ("status", "left"),
        ("kWh / 1k", "right"),
        ("± 95%", "right"),
        ("gCO2e / 1k", "right"),
        ("GPU kWh / 1k", "right"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for c, data, status in results:
        label = c.task + (" (zero-shot)" if c.mode == "zero-shot" else "")
        if data is None or data["energy_kwh_per_1k"] is None:
            reason = status if data is None else f"failed: {data['error']}"
            t.add_row(label, c.model, reason[:70], "", "", "", "")
            continue
        kwh = data["energy_kwh_per_1k"]
        lo, hi = data["energy_kwh_per_1k_ci95"]
        half = None if lo is None else (hi - lo) / 2
        t.add_row(
            label,
            c.model,
            status,
            _sig3(kwh),
            _sig3(half),
            _sig3(kwh * g_per_kwh),
            _sig3(data["gpu_energy_kwh_per_1k"]),
        )
    console.print(t)
    stored = sum(s.startswith("stored") for _, _, s in results)
    line = f"{measured} runs measured now in {elapsed_s:.0f} s"
    if stored:
        line += f"; {stored} shown from the store, measured before (add --again to measure them here now)"
    console.print(line + ".")
    modelled = sorted(
        {
            f"{k} ({v})"
            for _, data, _ in results
            if data
            for k, v in (data.get("components") or {}).items()
            if v == "modeled"
        }
    )
    if modelled:
        console.print(
            f"[yellow]modelled[/]: {', '.join(modelled)}: estimates from a power model, not a hardware "
            "counter (see 'wattsup show RUN_ID')."
        )


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
    from rich.table import Table

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
    t = Table(title=f"{len(entries)} catalog models" + (f" for {name}" if name else ""))
    for col, just in (
        ("model", "left"),
        ("tasks", "left"),
        ("family", "left"),
        ("architecture", "left"),
        ("parameters", "right"),
    ):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for e in entries:
        t.add_row(
            e.id,
            ", ".join(e.tasks()),
            e.family,
            e.model_type,
            f"{e.num_parameters:,}" if e.num_parameters else "",
        )
    ui.console().print(t)
