"""``wattsup measure``, ``wattsup doctor`` and ``wattsup monitor``: the meter from the command line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from wattsup.cli import ui
from wattsup.errors import InvalidInput
from wattsup.meter import Measurement, Meter, Sampler, discover
from wattsup.meter.export import write_timeline

err_console = Console(stderr=True)
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def measurement_json(m: Measurement, exit_code: int | None = None) -> dict[str, Any]:
    """The stable JSON shape of ``wattsup measure --json``."""
    out: dict[str, Any] = {"duration_s": m.duration_s}
    if exit_code is not None:
        out["exit_code"] = exit_code
    out["total_energy_j"] = m.total_energy_j
    out["total_error_bound_j"] = m.total_error_bound_j
    out["partial"] = m.partial
    out["background_cpu_share"] = m.background_cpu_share
    out["components"] = [
        {
            "name": c.name,
            "energy_j": c.energy_j,
            "method": c.method,
            "error_bound_j": c.error_bound_j,
            "mean_power_w": c.energy_j / m.duration_s if m.duration_s > 0 else None,
            "partial": c.partial,
            "filled_s": c.filled_s,
            "detail": c.detail,
        }
        for c in m.components
    ]
    out["warnings"] = m.warnings
    return out


def measurement_table(m: Measurement, title: str) -> Table:
    """A perf-stat-like table; each component's sensor and estimator are listed under it."""
    t = ui.table(
        ("component", "energy (J)", "± bound (J)", "mean power (W)", "method"),
        right=("energy (J)", "± bound (J)", "mean power (W)"),
        title=title,
        title_justify="left",
        caption_justify="left",
    )
    for c in m.components:
        p = c.energy_j / m.duration_s if m.duration_s > 0 else float("nan")
        method = f"{c.method}, partial ({c.filled_s:.2f} s filled)" if c.partial else c.method
        t.add_row(c.name, f"{c.energy_j:,.3f}", f"{c.error_bound_j:,.3f}", f"{p:,.2f}", method)
    tp = m.total_energy_j / m.duration_s if m.duration_s > 0 else float("nan")
    t.add_row(
        "total",
        f"{m.total_energy_j:,.3f}",
        f"{m.total_error_bound_j:,.3f}",
        f"{tp:,.2f}",
        "+".join(sorted(m.methods)) + (", partial" if m.partial else ""),
        style="bold",
    )
    lines = [f"{m.duration_s:.3f} s elapsed, {m.total_energy_j / 3.6e6:.4g} kWh"]
    lines += [f"{c.name}: {c.detail}" for c in m.components]
    if m.mixes_measured_and_modeled:
        lines.append("note: the total mixes measured and modelled components")
    t.caption = "\n".join(lines)
    return t


def check_timeline_path(path: Path) -> None:
    """Refuse a ``--timeline`` path that could not be written, before the command runs (the measurement
    of a long command must not be lost to a typo): its suffix, and that the file (or the nearest folder
    that exists above it) is writable. Nothing is left behind."""
    import tempfile

    if path.suffix.lower() not in (".csv", ".json"):
        raise InvalidInput("--timeline", f"use a .csv or .json file name, got {path.name!r}")
    if path.is_dir():
        raise InvalidInput("--timeline", f"{path} is a directory; give a file name in it (timeline.csv)")
    try:
        if path.exists():
            with path.open("a"):
                pass
            return
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise InvalidInput("--timeline", f"cannot write {path}: {folder} is not a directory")
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".wattsup-check-"):
            pass
    except OSError as err:
        raise InvalidInput(
            "--timeline", f"cannot write {path} ({err.strerror or err}); give a path in a writable directory"
        ) from None


def _not_runnable(name: str) -> tuple[int, str] | None:
    """Why ``name`` cannot be run, with the shell's exit status (127: not found, 126: found but not
    executable), or ``None`` when it can."""
    if shutil.which(name) is not None:
        return None
    p = Path(name)
    if not p.exists():
        return 127, f"command not found: {name}"
    if p.is_dir():
        return 126, f"{name}: is a directory, not a command"
    if not os.access(p, os.X_OK):
        return 126, (
            f"{name}: permission denied: the file is not executable; make it so (chmod +x {name}) or run "
            f"it with its interpreter (wattsup measure -- python {name})"
        )
    return 127, f"command not found: {name} (to run the file here, give ./{name})"


def register(app: typer.Typer) -> None:
    app.command(
        context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
        no_args_is_help=True,
    )(measure)
    app.command()(doctor)
    app.command()(monitor)


def measure(
    command: list[str] = typer.Argument(..., help="the command to run, after '--'"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of the table"),
    interval: float = typer.Option(
        0.05,
        "--interval",
        help="polling interval (s) of RAPL and power readings; the NVML counter is "
        "read around each of its own steps",
    ),
    timeline: Path | None = typer.Option(
        None, "--timeline", help="write the power/energy timeline to this .csv or .json file"
    ),
    no_gpu: bool = typer.Option(False, "--no-gpu", help="do not meter GPUs"),
    process_cpu: bool = typer.Option(
        True,
        "--process-cpu/--machine-cpu",
        help="charge the CPU to the command's own process tree (its CPU time; a whole-package RAPL "
        "counter is apportioned when other processes keep the host busy), or to the whole machine",
    ),
) -> None:
    """Run COMMAND and report the energy it took, per component (like `perf stat`).

    Output and signals pass through; the exit status is the command's.
    """
    if not command:
        raise InvalidInput(
            "COMMAND", "give a command to run after '--', e.g. wattsup measure -- python train.py"
        )
    if interval <= 0 or interval > 10:
        raise InvalidInput("--interval", f"must be in (0, 10] seconds, got {interval:g}")
    why = _not_runnable(command[0])
    if why is not None:
        err_console.print(f"wattsup: {why[1]}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(why[0])
    if timeline is not None:
        check_timeline_path(timeline)
    from wattsup.meter import sources as src_mod

    src_mod.RAPL_INTERVAL_S = src_mod.SAMPLED_INTERVAL_S = interval
    found = discover(gpu=not no_gpu, pid=os.getpid() if process_cpu else None)
    meter = Meter("command", sources=found, sync=None, timeline=timeline is not None)
    meter.warnings += [
        f"{s.component}: {s.reason}" for s in found.statuses if not s.available and s.actionable
    ]
    m, code = _run(meter, command)
    if timeline is not None:
        m = _with_timeline(m, timeline)
    if as_json:
        typer.echo(json.dumps(measurement_json(m, code)))
    else:
        err_console.print(measurement_table(m, f"wattsup measure: {' '.join(command)} (exit {code})"))
        for w in m.warnings:
            err_console.print(f"[yellow]warning:[/] {w}")
    raise typer.Exit(code if code >= 0 else 128 - code)


def doctor(as_json: bool = typer.Option(False, "--json")) -> None:
    """Which energy sensors are available here, and for each missing one why."""
    from wattsup.sensors.devices import discover_devices

    found = discover()
    for tr in found.tracks:
        tr.close()
    vendors = discover_devices()  # every vendor's source, available or not, and why
    vendors.close()
    rows = [
        {
            "component": s.component,
            "source": s.source,
            "available": s.available,
            "method": s.method,
            "detail": s.detail or s.reason,
            **s.extra,
        }
        for s in found.statuses
    ]
    vendor_rows = [
        {
            "component": ", ".join(v.components) or "none",
            "source": v.source,
            "available": v.available,
            "method": None,
            "detail": v.reason,
            "vendor": v.vendor,
            "signal": v.signal,
            "error": v.error,
        }
        for v in vendors.sources
    ]
    if as_json:
        typer.echo(json.dumps(rows + vendor_rows, indent=1))
        return
    _print_doctor(found, vendors)


def _print_doctor(found: Any, vendors: Any) -> None:
    t = Table(title="wattsup doctor: energy sources on this machine", title_justify="left")
    for col in ("component", "source", "status", "method", "detail / reason"):
        t.add_column(col, overflow="fold")
    for s in found.statuses:
        t.add_row(
            s.component,
            s.source,
            "[green]ok[/]" if s.available else "[red]missing[/]",
            s.method or "-",
            s.detail or s.reason,
        )
    Console().print(t)
    vt = Table(title="every vendor's device source", title_justify="left")
    for col in ("vendor", "source", "status", "components", "signal", "detail / reason"):
        vt.add_column(col, overflow="fold")
    for v in vendors.sources:
        status = "[green]ok[/]" if v.available else f"[red]{v.error or 'missing'}[/]"
        vt.add_row(v.vendor, v.source, status, ", ".join(v.components) or "none", v.signal, v.reason)
    Console().print(vt)


def monitor(
    interval: float = typer.Option(1.0, "--interval", help="seconds between updates"),
    prometheus_port: int | None = typer.Option(
        None, "--prometheus-port", help="also serve the readings for Prometheus on 127.0.0.1:PORT"
    ),
    duration: float | None = typer.Option(None, "--duration", help="stop after this many seconds"),
    host: str = typer.Option("127.0.0.1", "--host", help="address the Prometheus endpoint binds to"),
) -> None:
    """Live power per component in the terminal (and for Prometheus with --prometheus-port)."""
    if interval <= 0:
        raise InvalidInput("--interval", f"must be positive, got {interval:g}")
    if prometheus_port is not None and not 0 < prometheus_port < 65536:
        raise InvalidInput("--prometheus-port", f"must be a TCP port (1-65535), got {prometheus_port}")
    found = discover()
    sampler = Sampler(found.tracks)
    sampler.start()
    gauges = None if prometheus_port is None else _prometheus(prometheus_port, host)
    from rich.live import Live

    t_start = time.monotonic()
    last = t_start
    time.sleep(min(interval, 0.3))
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    try:
        with Live(console=Console(), refresh_per_second=4, transient=False) as live:
            while not stop and (duration is None or time.monotonic() - t_start < duration):
                time.sleep(interval)
                now = time.monotonic()
                lag = 0.25  # the NVML counter steps every ~100 ms: read a little behind now
                a, b = last - lag, now - lag
                last = now
                live.update(_power_table(sampler, a, b, interval, gauges))
    except KeyboardInterrupt:
        pass
    finally:
        sampler.stop()


def _run(meter: Meter, command: list[str]) -> tuple[Measurement, int]:
    """Run the command inside the meter's window, forwarding signals; its measurement and exit code."""
    meter.start()
    try:
        proc = subprocess.Popen(command)
    except OSError as err:  # found, but the kernel would not run it (no interpreter line, ...)
        meter.stop()
        err_console.print(
            f"wattsup: {command[0]}: cannot run it ({err.strerror or err})", markup=False, soft_wrap=True
        )
        raise typer.Exit(126) from None
    previous = {s: signal.signal(s, lambda n, f: proc.send_signal(n)) for s in FORWARDED}
    try:
        code = proc.wait()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    return meter.stop(), code


def _with_timeline(m: Measurement, timeline: Path) -> Measurement:
    """Write the timeline; when that fails (checked before the run, but the disk may have filled or gone
    since), the measurement says so and is still printed."""
    try:
        write_timeline(m, timeline)
    except OSError as err:
        why = err.strerror or err
        warning = f"--timeline {timeline}: could not write it ({why}); the measurement is printed here"
        return m.model_copy(update={"warnings": [*m.warnings, warning]})
    return m


def _prometheus(port: int, host: str) -> tuple[Any, Any]:
    """Serve power and energy gauges for Prometheus on HOST:PORT."""
    try:
        from prometheus_client import Counter, Gauge, start_http_server
    except ImportError as e:
        raise InvalidInput(
            "--prometheus-port", "needs prometheus-client: pip install 'wattsup[monitor]'"
        ) from e
    power = Gauge("wattsup_power_watts", "mean power over the last interval", ["component", "method"])
    energy = Counter("wattsup_energy_joules", "energy since the monitor started", ["component", "method"])
    start_http_server(port, addr=host)
    err_console.print(f"serving Prometheus metrics on http://{host}:{port}/metrics")
    return power, energy


def _power_table(
    sampler: Sampler, a: float, b: float, interval: float, gauges: tuple[Any, Any] | None
) -> Table:
    """Mean power per component over [a, b] (and the Prometheus gauges updated)."""
    table = Table(title=f"wattsup monitor (every {interval:g} s, Ctrl-C to stop)", title_justify="left")
    for col in ("component", "power (W)", "± (W)", "method"):
        table.add_column(col)
    for tr in sampler.tracks:
        if tr.error or tr.covered_until() < b:
            table.add_row(tr.name, "…" if not tr.error else "error", "", tr.method)
            continue
        est = tr.energy(a, b)
        p = est.energy_j / (b - a)
        table.add_row(tr.name, f"{p:,.1f}", f"{est.bound_j / (b - a):,.1f}", tr.method)
        if gauges is not None:
            gauges[0].labels(tr.name, tr.method).set(p)
            gauges[1].labels(tr.name, tr.method).inc(est.energy_j)
    return table
