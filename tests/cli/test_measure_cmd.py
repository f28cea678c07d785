"""End-to-end tests of ``wattsup measure``, ``wattsup doctor`` and ``wattsup monitor`` on this machine
(no GPU, no RAPL: the CPU and RAM are modelled), run as real subprocesses so exit codes, output and
signals pass through as a user sees them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

WATTSUP = [sys.executable, "-m", "wattsup"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "CUDA_VISIBLE_DEVICES": ""}


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WATTSUP, *args], check=False, capture_output=True, text=True, timeout=timeout, env=ENV
    )


def test_measure_json_reports_components_and_the_commands_exit_code() -> None:
    p = run(
        "measure", "--json", "--", sys.executable, "-c", "import time; time.sleep(0.3); raise SystemExit(3)"
    )
    assert p.returncode == 3, p.stderr
    out = json.loads(p.stdout)
    assert out["exit_code"] == 3
    assert out["duration_s"] >= 0.3
    names = {c["name"] for c in out["components"]}
    assert {"cpu", "ram"} <= names
    for c in out["components"]:
        assert set(c) >= {"name", "energy_j", "method", "error_bound_j"}
        assert c["energy_j"] > 0, c  # never a silent zero
        assert c["method"] == "modeled"  # no counter here, and it says so
        assert c["error_bound_j"] >= 0.5 * c["energy_j"] * 0.99
    assert out["total_energy_j"] == pytest.approx(sum(c["energy_j"] for c in out["components"]))


def test_measure_forwards_output_and_prints_a_table_on_stderr() -> None:
    p = run("measure", "--", sys.executable, "-c", "print('hello from the child')")
    assert p.returncode == 0
    assert p.stdout.strip() == "hello from the child"
    assert "total" in p.stderr and "modeled" in p.stderr and "energy (J)" in p.stderr


def test_missing_command_exits_127_and_no_command_is_a_usage_error() -> None:
    p = run("measure", "--", "no-such-command-wattsup")
    assert p.returncode == 127
    assert "command not found: no-such-command-wattsup" in p.stderr
    p = run("measure")
    assert p.returncode == 2


def test_bad_interval_names_the_flag() -> None:
    p = run("measure", "--interval", "-1", "--", "true")
    assert p.returncode == 2
    assert "--interval" in p.stderr


def test_measure_forwards_signals_to_the_command() -> None:
    child = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [*WATTSUP, "measure", "--", sys.executable, "-c", child],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 7
    finally:
        proc.kill()
        proc.wait()


def test_a_command_killed_by_a_signal_exits_like_a_shell() -> None:
    p = run("measure", "--", sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)")
    assert p.returncode == 128 + signal.SIGTERM


def test_timeline_export_csv_and_json(tmp_path: Path) -> None:
    csv_path = tmp_path / "t.csv"
    p = run(
        "measure", "--timeline", str(csv_path), "--", sys.executable, "-c", "import time; time.sleep(0.8)"
    )
    assert p.returncode == 0, p.stderr
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "component,t_s,energy_j,power_w"
    comps = {ln.split(",")[0] for ln in lines[1:]}
    assert {"cpu", "ram"} <= comps
    js = tmp_path / "t.json"
    p = run("measure", "--timeline", str(js), "--", sys.executable, "-c", "import time; time.sleep(0.6)")
    assert p.returncode == 0, p.stderr
    data = json.loads(js.read_text())
    assert data["duration_s"] > 0.5 and data["points"]
    p = run("measure", "--timeline", str(tmp_path / "t.txt"), "--", "true")
    assert p.returncode == 2 and "--timeline" in p.stderr


def test_doctor_says_why_sources_are_missing() -> None:
    p = run("doctor", "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    by = {(r["component"], r["source"]): r for r in rows}
    assert by[("cpu", "model")]["available"] is True
    assert by[("ram", "model")]["available"] is True
    gpu = [r for r in rows if r["component"].startswith("gpu")]
    assert gpu and all(r["detail"] for r in gpu)  # available, or a reason why not
    table = run("doctor")
    assert table.returncode == 0 and "component" in table.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_monitor_serves_prometheus_metrics_on_localhost() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [*WATTSUP, "monitor", "--interval", "0.3", "--duration", "20", "--prometheus-port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        body = ""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and "wattsup_power_watts{" not in body:
            time.sleep(0.3)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    body = r.read().decode()
            except OSError:
                continue
        assert 'wattsup_power_watts{component="cpu",method="modeled"}' in body
        assert 'wattsup_energy_joules_total{component="ram",method="modeled"}' in body
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()
        proc.wait()


def test_monitor_rejects_a_bad_port() -> None:
    p = run("monitor", "--prometheus-port", "70000", "--duration", "1")
    assert p.returncode == 2 and "--prometheus-port" in p.stderr


def test_measure_keeps_a_rapl_zone_that_vanishes_and_says_partial(tmp_path: Path) -> None:
    """The command removes the (fake) package zone half-way: the CPU figure keeps what the counter
    measured, the rest comes from the CPU model, and the JSON says partial (issue 13)."""
    from tests.fakes.powercap import server_tree

    tree = server_tree(tmp_path / "powercap", sockets=1, dram=False)
    zone = tree.root / "intel-rapl:0"
    script = (
        "import pathlib, shutil, time\n"
        f"z = pathlib.Path({str(zone)!r})\n"
        "t = time.monotonic()\n"
        "while time.monotonic() - t < 0.6:\n"  # the package counter moves: 40 W
        "    (z / 'energy_uj').write_text(str(1_000_000 + int((time.monotonic() - t) * 40e6)))\n"
        "    time.sleep(0.01)\n"
        "shutil.rmtree(z)\n"
        "time.sleep(0.8)\n"
    )
    env = {**ENV, "WATTSUP_POWERCAP_ROOT": str(tree.root)}
    p = subprocess.run(
        # the whole package: no apportioning by this shared host's load
        [*WATTSUP, "measure", "--json", "--machine-cpu", "--", sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    cpu = next(c for c in out["components"] if c["name"] == "cpu")
    assert cpu["method"] == "counter" and cpu["partial"] is True and out["partial"] is True
    assert 0.5 <= cpu["filled_s"] <= 1.2
    assert cpu["energy_j"] > 0.5 * 40 * 0.5  # what the counter measured is kept, and the rest is filled
    assert "filled from modelled" in cpu["detail"]
    assert any("reading failed" in w for w in out["warnings"])
