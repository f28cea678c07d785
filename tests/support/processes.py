"""What tests that start interpreters or servers of their own need: where the repository and the wattsup
under test are, a ``PYTHONPATH`` that imports both in the child, and a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

import wattsup

ROOT = Path(__file__).resolve().parents[2]
"""The repository: the folder that holds the ``tests`` package."""
SRC = Path(wattsup.__file__).resolve().parents[1]
"""The folder the wattsup under test is imported from (``src/``, or site-packages where it is installed)."""
SHARED = ROOT.parent / "shared"
"""The shared folder laid beside the clone (the study's logs: ``data/power-hungry-processing``)."""


def python_path(*first: str | Path) -> str:
    """A ``PYTHONPATH`` for a child interpreter: ``first``, then the wattsup under test, then the repository
    (so that ``tests.fakes…`` imports there), then this process's own ``PYTHONPATH``, all absolute."""
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    paths = [str(Path(p).resolve()) for p in (*first, SRC, ROOT, *inherited)]
    return os.pathsep.join(dict.fromkeys(paths))


def wait_gone(pids: list[int], timeout_s: float = 10.0) -> list[int]:
    """Wait for processes to end (a zombie has ended); return those still running after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = []
        for pid in pids:
            try:
                if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                    alive.append(pid)
            except psutil.NoSuchProcess:
                continue
        if alive:
            time.sleep(0.05)
    return alive


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 10) -> None:
    """Terminate a server process; kill it if it has not ended within ``timeout_s``."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base_url: str
    model: str
    kind: str
    proc: subprocess.Popen[bytes]


def smoke_benchmark(name: str, out: Path) -> tuple[dict[str, Any], str]:
    """Run ``benchmarks/<name>.py --smoke`` offline in a process of its own, writing into ``out``: the JSON
    report it wrote (``out/<name>.json``) and what it printed. Fails with the end of its standard error if it
    does not exit 0."""
    import json
    import sys

    env = {**os.environ, "OUT": str(out), "PYTHONPATH": python_path(), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{name}.py"), "--smoke"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report: dict[str, Any] = json.loads((out / f"{name}.json").read_text())
    return report, proc.stdout
