"""Each run in a process of its own, so that a crash, an out-of-memory kill or a timeout becomes a failed
run with its reason instead of a lost suite. The process is forked from a warm fork server
(:mod:`wattsup.bench.forkserver`) that has torch and transformers imported already, so a run does not pay
for a fresh interpreter and those imports; the server and its children end with the process that started
them, and a run's temporary directory is removed whatever way it ends."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import wattsup
from wattsup.bench.worker import DEFAULT_ENTRY
from wattsup.records import RunConfig, RunRecord

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


ProgressFn = Callable[[str, int, int], None]
"""Called with (stage, done, total) as a run advances (stages 'load', 'warmup', 'rep N')."""

FORK_SAFE_ENV = ("WATTSUP_", "CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "PYTHONPATH")
"""Environment variables read only once a run starts: a run may set them differently from the fork
server's own environment (the child gets them). Any other difference (``HF_HUB_OFFLINE``, ``OMP_*``,
``PYTORCH_*``, ...) may be read while torch and transformers are imported, so it gets a server of its own.
``PYTHONPATH`` entries are also put on the child's ``sys.path``."""

COLD_ENV = "WATTSUP_COLD_WORKERS"
"""Set to 1 to start a fresh server for every run (fresh interpreter and imports each time, as before the
fork server: slower; for comparison, or where a library misbehaves when forked)."""
SERVER_START_TIMEOUT_S = 600.0
POLL_S = 0.25
MAX_SERVERS = 2


def _import_env(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in env.items() if not k.startswith(FORK_SAFE_ENV)))


class ForkServerError(RuntimeError):
    """The fork server could not start or ended unexpectedly."""


class ForkServer:
    """The runner's end of :mod:`wattsup.bench.forkserver`: one server process, one run at a time."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        try:
            self.proc = subprocess.Popen(
                [python, "-m", "wattsup.bench.forkserver", str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError as e:
            raise ForkServerError(f"cannot start {python}: {e.strerror or e}") from None
        self._buf = b""
        try:
            hello = self._read(SERVER_START_TIMEOUT_S)
        except (TimeoutError, ValueError):
            hello = None
        if hello is None or not hello.get("ready"):
            self.close()
            why = f": {hello['error']}" if hello is not None and hello.get("error") else ""
            cmd = f"{python} -m wattsup.bench.forkserver"
            raise ForkServerError(f"the fork server did not start ({cmd}){why}")
        self.failed_imports: dict[str, str] = dict(hello.get("failed", {}))

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read(self, timeout_s: float | None) -> dict[str, Any] | None:
        """The server's next message; None at end of output; raises TimeoutError after ``timeout_s``."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = None if timeout_s is None else time.monotonic() + max(timeout_s, 0.0)
        while b"\n" not in self._buf:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        msg: dict[str, Any] = json.loads(line)
        return msg

    def start(self, request: dict[str, Any]) -> int:
        """Send one run; the child's pid."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
            msg = self._read(SERVER_START_TIMEOUT_S)
        except (BrokenPipeError, TimeoutError) as e:
            raise ForkServerError(f"the fork server did not take the run ({type(e).__name__})") from e
        if msg is None or "pid" not in msg:
            raise ForkServerError(f"the fork server ended (exit code {self.proc.poll()})")
        return int(msg["pid"])

    def wait(self, timeout_s: float | None) -> int | None:
        """The child's exit code (negative: the signal), or None if the server ended first; raises
        TimeoutError after ``timeout_s``."""
        msg = self._read(timeout_s)
        return None if msg is None else int(msg["exit"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=KILL_GRACE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


_servers: dict[tuple[str, int, tuple[tuple[str, str], ...]], ForkServer] = {}
_servers_lock = threading.Lock()
"""Guards ``_servers``; a run holds its slot's lock (:func:`_slot_lock`) for as long as it runs."""
_slot_locks: dict[int, threading.Lock] = {}


def _slot_lock(slot: int) -> threading.Lock:
    with _servers_lock:
        return _slot_locks.setdefault(slot, threading.Lock())


def fork_server(python: str, env: dict[str, str], slot: int = 0) -> ForkServer:
    """A running fork server for this interpreter, ``slot`` and the import-time part of ``env`` (a run's whole
    environment), started on first use with this process's ``FORK_SAFE_ENV`` variables (so that it imports
    this wattsup), kept for the next runs; the least recently used one of the slot is closed beyond
    ``MAX_SERVERS``. Call it holding the slot's lock."""
    key = (python, slot, _import_env(env))
    with _servers_lock:
        server = _servers.pop(key, None)
    if server is not None and not server.alive:
        server.close()
        server = None
    if server is None:
        _sweep_stale_run_dirs()
        # this process's own environment, but for what is read at import time: the run's; and this
        # wattsup first on the path, whatever the working directory is now
        own = {k: v for k, v in os.environ.items() if k.startswith(FORK_SAFE_ENV)}
        here = str(Path(wattsup.__file__).resolve().parents[1])
        own["PYTHONPATH"] = os.pathsep.join(
            [here, *filter(None, own.get("PYTHONPATH", "").split(os.pathsep))]
        )
        server = ForkServer(python, {**own, **dict(key[2])})
    with _servers_lock:
        _servers[key] = server
        mine = [k for k in _servers if k[1] == slot]
        evicted = [_servers.pop(k) for k in mine[: max(len(mine) - MAX_SERVERS, 0)]]
    for old in evicted:
        old.close()
    return server


def _close_server(server: ForkServer) -> None:
    with _servers_lock:
        for key, s in list(_servers.items()):
            if s is server:
                del _servers[key]
    server.close()


def close_fork_servers() -> None:
    """Stop every fork server this process started (they also stop by themselves when it ends)."""
    with _servers_lock:
        while _servers:
            _servers.popitem()[1].close()


atexit.register(close_fork_servers)

RUN_DIR_PREFIX = "wattsup-run-"


def _sweep_stale_run_dirs() -> None:
    """Remove run directories left by runners that no longer exist (a runner killed together with its
    fork server): each is named after its runner's pid."""
    base = Path(tempfile.gettempdir())
    for d in base.glob(f"{RUN_DIR_PREFIX}*-*"):
        pid = d.name[len(RUN_DIR_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if d.stat().st_uid != os.getuid():
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            continue


def _kill_group(pid: int, server: ForkServer) -> int | None:
    """Stop the run (its whole process group), politely first; its exit code as the server saw it."""
    for sig, wait_s in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, SERVER_START_TIMEOUT_S)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        try:
            return server.wait(wait_s)
        except TimeoutError:
            continue
    return None


class _ProgressReader:
    """Follows the worker's progress file (lines 'STAGE DONE TOTAL') and reports its newest line."""

    def __init__(self, path: Path, progress: ProgressFn | None) -> None:
        self.path, self.progress, self.offset, self.partial = path, progress, 0, b""

    def poll(self) -> None:
        if self.progress is None:
            return
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for line in lines[-1:]:
            stage, _, rest = line.decode(errors="replace").rpartition(" ")
            stage, _, done = stage.rpartition(" ")
            if done.isdigit() and rest.isdigit():
                self.progress(stage, int(done), int(rest))


def _request(config: RunConfig, argv: list[str], env: dict[str, str] | None, d: Path) -> dict[str, Any]:
    """What the fork server gets for one run: its worker's arguments, environment, directories."""
    full_env = {**os.environ, **(env or {})}
    # OpenMP threads that spin while they wait for each other burn CPU time the run is charged for, and
    # collapse on a busy host (a 2-core VM beside two busy loops: 18-46 instead of 305-380 inferences/s,
    # benchmarks/RESULTS.md): runs wait passively unless the user says otherwise
    full_env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    request: dict[str, Any] = {"argv": argv, "env": full_env, "cwd": os.getcwd(), "dir": str(d)}
    if config.device.startswith("cuda"):  # the next CUDA run gets a process with CUDA started
        request["warm"] = "cuda"
    return request


def run_isolated(
    config: RunConfig,
    *,
    timeout_s: float | None = None,
    entry: str = DEFAULT_ENTRY,
    env: dict[str, str] | None = None,
    python: str | None = None,
    log: Callable[[str], None] | None = None,
    progress: ProgressFn | None = None,
    slot: int = 0,
) -> RunRecord:
    """Run ``config`` in a process of its own, forked from a warm fork server
    (:mod:`wattsup.bench.forkserver`), and return its record; any way the worker can fail (exception, crash,
    kill, timeout, unreadable output) gives a failed record with the reason. ``progress`` is called with
    (stage, done, total) as the run advances, where the entry reports it. Calls from several threads of
    one process with the same ``slot`` take turns (a server runs one run at a time); calls with different
    slots run at the same time, each slot on fork servers of its own (a sweep's one run per GPU)."""
    started = datetime.now(UTC)
    d = Path(tempfile.mkdtemp(prefix=f"{RUN_DIR_PREFIX}{os.getpid()}-"))
    try:
        cfg, out, err = d / "config.json", d / "record.json", d / "worker.log"
        prog = d / "progress"
        cfg.write_text(config.model_dump_json(), encoding="utf-8")
        argv = [str(cfg), "--out", str(out), "--entry", entry, "--progress", str(prog)]
        request = _request(config, argv, env, d)
        full_env = request["env"]
        reader = _ProgressReader(prog, progress)
        with _slot_lock(slot):
            try:
                server = fork_server(python or sys.executable, full_env, slot)
                pid = server.start(request)
            except ForkServerError as e:
                return failed_record(config, str(e), started)
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            try:
                while True:
                    left = None if deadline is None else deadline - time.monotonic()
                    wait_s = POLL_S if progress is not None else left
                    if left is not None and wait_s is not None:
                        wait_s = min(wait_s, left)
                    try:
                        rc = server.wait(wait_s)
                        break
                    except TimeoutError:
                        reader.poll()
                        if deadline is not None and time.monotonic() >= deadline:
                            _kill_group(pid, server)
                            return failed_record(
                                config, f"timed out after {timeout_s:g} s (the run was stopped)", started
                            )
            except BaseException:  # Ctrl-C: take the worker down with us
                _kill_group(pid, server)
                raise
            if os.environ.get(COLD_ENV, "") == "1":
                _close_server(server)
        reader.poll()
        if rc is None:
            return failed_record(config, "the fork server ended during the run (it was killed)", started)
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
    finally:
        shutil.rmtree(d, ignore_errors=True)
