"""The text of ``wattsup bench`` and ``wattsup suite``: the plan, the estimate, a run's figures and the
suite's table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wattsup.cli import ui
from wattsup.format import sig

if TYPE_CHECKING:
    from rich.console import Console

    from wattsup.results import RunConfig, Store


def _sig3(v: float | None) -> str:
    return sig(v, ".3g")


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


def _say_plan(
    console: Console,
    name: str,
    total: int,
    todo: list[RunConfig],
    skipped: list[RunConfig],
    store: Store,
    per_run_timeout: float,
) -> None:
    from wattsup.results.estimate import estimate, say_duration

    left_out = total - len(todo) - len(skipped)
    console.print(
        f"suite [bold]{name}[/]: {total} runs: {len(todo)} to measure now, "
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


def _print_suite(
    console: Console,
    results: list[tuple[RunConfig, dict[str, Any] | None, str]],
    g_per_kwh: float,
    region: str,
    elapsed_s: float,
    measured: int,
) -> None:
    t = ui.table(
        ("task", "model", "status", "kWh / 1k", "± 95%", "gCO2e / 1k", "GPU kWh / 1k"),
        right=("kWh / 1k", "± 95%", "gCO2e / 1k", "GPU kWh / 1k"),
        title=f"kWh and gCO2e per 1,000 inferences (grid: {region}, {g_per_kwh:g} g/kWh)",
    )
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
