"""Each run in a subprocess of its own, so that a crash, an out-of-memory kill or a timeout becomes a failed
run with its reason instead of a lost suite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from wattsup.bench.worker import DEFAULT_ENTRY
from wattsup.results.schema import RunConfig, RunRecord

STDERR_TAIL_CHARS = 1500
KILL_GRACE_S = 5.0


def _signal_reason(rc: int) -> str:
    sig = -rc
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = f"signal {sig}"
    if sig == signal.SIGKILL:
        return f"killed by {name} (most often the kernel's out-of-memory killer)"
    if sig == signal.SIGSEGV:
        return f"crashed with {name} (a segmentation fault in native code)"
    return f"ended by {name}"


def _tail(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(lines[-12:])[-STDERR_TAIL_CHARS:]


def failed_record(config: RunConfig, reason: str, started: datetime) -> RunRecord:
    return RunRecord(
        config=config, status="failed", error=reason, started_at=started, finished_at=datetime.now(UTC)
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait_s in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def run_isolated(
    config: RunConfig,
    *,
    timeout_s: float | None = None,
    entry: str = DEFAULT_ENTRY,
    env: dict[str, str] | None = None,
    python: str | None = None,
    log: Callable[[str], None] | None = None,
) -> RunRecord:
    """Run ``config`` in ``python -m wattsup.bench.worker`` and return its record; any way the worker can
    fail (exception, crash, kill, timeout, unreadable output) gives a failed record with the reason."""
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="wattsup-run-") as d:
        cfg, out, err = Path(d, "config.json"), Path(d, "record.json"), Path(d, "worker.log")
        cfg.write_text(config.model_dump_json(), encoding="utf-8")
        cmd = [
            python or sys.executable,
            "-m",
            "wattsup.bench.worker",
            str(cfg),
            "--out",
            str(out),
            "--entry",
            entry,
        ]
        full_env = {**os.environ, **(env or {})}
        with err.open("wb") as errf:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=errf, stderr=errf, env=full_env, start_new_session=True
            )
            try:
                rc = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                return failed_record(
                    config, f"timed out after {timeout_s:g} s (the run was stopped)", started
                )
            except BaseException:  # Ctrl-C: take the worker down with us
                _kill_group(proc)
                raise
        if log is not None:
            log(_tail(err))
        if out.exists():
            try:
                record = RunRecord.model_validate_json(out.read_text(encoding="utf-8"))
            except (ValidationError, ValueError) as e:
                return failed_record(config, f"the worker wrote an unreadable record: {e}", started)
            if rc != 0 and record.status == "ok":
                record = record.model_copy(
                    update={"status": "failed", "error": f"worker exited with code {rc}"}
                )
            return record
        reason = _signal_reason(rc) if rc < 0 else f"the worker exited with code {rc} and wrote no record"
        tail = _tail(err)
        return failed_record(config, f"{reason}{': ' + tail.splitlines()[-1] if tail else ''}", started)
