"""A fork server for the isolated runs: ``python -m wattsup.bench.forkserver PARENT_PID``.

Starting a fresh interpreter per run pays Python, torch and transformers imports every time (seconds on a
small CPU). This server imports them once, then forks one child per run: each run still has a process of
its own (a crash, an out-of-memory kill or a timeout is that run's failure alone; nothing one run loads is
seen by the next, because the server itself never runs anything), but it starts warm. CUDA is never
initialised here: the server imports torch and does nothing with it, so every child initialises CUDA for
itself after the fork.

Protocol, one JSON object per line. The server writes ``{"ready": ...}`` once its imports are done. Then,
for each request ``{"argv": [...], "env": {...}, "cwd": "...", "dir": "..."}`` on standard input, it forks
a child that runs ``wattsup.bench.worker.main(argv)`` with that environment and working directory (its
output goes to ``dir/worker.log``), writes ``{"pid": PID}``, and ``{"exit": CODE}`` once the child has
ended (a negative code is the signal that ended it). One run at a time.

Nothing outlives the process that started the server (the runner):

- the server stops once its standard input closes (the runner ended, whatever killed it: the kernel closes
  the pipe) or its parent is no longer ``PARENT_PID``; it kills the running child's process group and
  removes that run's ``dir``. (No ``PR_SET_PDEATHSIG`` for the server: it fires when the *thread* that
  started the process ends, and a runner may be called from a thread that ends before its process.)
- each child gets ``PR_SET_PDEATHSIG`` (SIGKILL) for the server (which is single-threaded), so that it
  cannot outlive it either, even when the server itself is killed.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import select
import shutil
import signal
import sys
import threading
import traceback
from typing import Any

PRELOAD = (
    "numpy",
    "torch",
    "transformers",
    "wattsup.bench.protocol",
    "wattsup.bench.backends.transformers",
    "wattsup.bench.tasks.base",
    "wattsup.sweep.worker",
)
"""Imported once by the server, before any fork (import failures are reported, not fatal: a child imports
what it needs for itself)."""

PARENT_POLL_S = 1.0
EXIT_PARENT_GONE = 75
_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent ends (Linux ``PR_SET_PDEATHSIG``).
    Returns False where that is not available (other systems): the parent-watch still applies there."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def preload(modules: tuple[str, ...] = PRELOAD) -> dict[str, str]:
    """Import ``modules``; returns those that failed, with why."""
    failed = {}
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as e:  # an optional library missing here: children import what they need
            failed[name] = f"{type(e).__name__}: {e}"
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():  # pragma: no cover - a bug, not an input
        raise RuntimeError("CUDA was initialised in the fork server; children could not use it")
    return failed


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _child(req: dict[str, Any], server_pid: int) -> int:
    """In the forked child: become a session of its own, die with the server, run the worker."""
    os.setsid()
    die_with_parent(signal.SIGKILL)
    if os.getppid() != server_pid:  # the server ended before the line above
        return EXIT_PARENT_GONE
    for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    log = os.open(os.path.join(req["dir"], "worker.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.close(null)
    env = {str(k): str(v) for k, v in req["env"].items()}
    os.environ.clear()
    os.environ.update(env)
    for entry in reversed([p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    os.chdir(req["cwd"])
    from wattsup.bench.worker import main

    return main(list(req["argv"]))


def _kill_child(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _wait(pid: int, run_dir: str, parent: int) -> int | None:
    """Wait for child ``pid``; its exit code, or None if the runner went away (the child is then killed
    and its run directory removed)."""
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            fds = [0] if pidfd is None else [0, pidfd]
            ready, _, _ = select.select(fds, [], [], PARENT_POLL_S if pidfd is not None else 0.05)
            if 0 in ready or os.getppid() != parent:
                # the runner sends nothing while a run is in flight: readable means it closed the pipe
                _kill_child(pid)
                shutil.rmtree(run_dir, ignore_errors=True)
                return None
    finally:
        if pidfd is not None:
            os.close(pidfd)


def serve(parent: int) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    if os.getppid() != parent:
        return EXIT_PARENT_GONE
    failed = preload()
    _say({"ready": True, "pid": os.getpid(), "failed": failed, "threads": threading.active_count()})
    me = os.getpid()
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return 0
        req = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child never returns into the server's loop
            code = 1
            try:
                code = _child(req, me)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                with contextlib.suppress(Exception):
                    sys.stdout.flush()
                    sys.stderr.flush()
                os._exit(code)
        _say({"pid": pid})
        ended = _wait(pid, str(req["dir"]), parent)
        if ended is None:
            return 0
        _say({"exit": ended})


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
