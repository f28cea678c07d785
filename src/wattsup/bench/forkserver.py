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

A request with ``"warm": "cuda"`` (a run on an NVIDIA GPU) also leaves a **spare** behind: a child forked
with that request's environment and working directory that initialises CUDA (context, cuBLAS) and starts
the meter's sampler process, then waits. The next CUDA request with the same environment and directory is
handed to the spare instead of a fresh fork, so it does not pay CUDA's start-up (seconds on an H100/H200,
most of a tiny model's run) nor the sampler's; a new spare is forked for the one after. Each run still has
a process of its own that ran nothing before it. The spare starts while the previous run is under way: its
CPU time is not that run's (a run charges its own process tree), and a CUDA context's creation draws next
to nothing on a GPU that is already busy; it holds a context's memory (~0.5 GB) meanwhile.
``WATTSUP_SPARE_WORKER=0`` turns spares off. A run that got a spare has ``WATTSUP_WORKER_START=spare`` in
its environment (its record's provenance says so).

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
import functools
import importlib
import json
import os
import select
import shutil
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

PRELOAD = (
    "numpy",
    "torch",
    "transformers",
    # ``import transformers`` is lazy: what every run's model, tokenizer and generation then import
    # (1.3 s of a tiny model's 1.35 s load on a 2-core CPU, benchmarks/RESULTS.md) is imported here once
    "transformers.modeling_utils",
    "transformers.modeling_layers",
    "transformers.models.auto.modeling_auto",
    "transformers.models.auto.tokenization_auto",
    "transformers.tokenization_utils_base",
    "transformers.processing_utils",
    "transformers.generation.utils",
    "wattsup.bench.protocol",
    "wattsup.bench.backends.transformers",
    "wattsup.bench.tasks.base",
    "wattsup.sweep.worker",
)
"""Imported once by the server, before any fork (import failures are reported, not fatal: a child imports
what it needs for itself)."""

PARENT_POLL_S = 1.0
SPARE_ENV = "WATTSUP_SPARE_WORKER"
WORKER_START_ENV = "WATTSUP_WORKER_START"
EXIT_PARENT_GONE = 75
_PR_SET_PDEATHSIG = 1
CUDA_SUCCESS = 0


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
    if (torch is not None and torch.cuda.is_initialized()) or cuda_driver_initialised():
        raise RuntimeError(
            "CUDA was initialised in the fork server by one of its imports; children could not use it "
            f"(imports: {', '.join(modules)})"
        )
    return failed


def cuda_driver_initialised() -> bool:
    """Whether this process has initialised the CUDA driver (what a forked child cannot inherit):
    ``cuDeviceGetCount`` succeeds only after ``cuInit``. False where there is no driver."""
    try:
        libcuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    return int(libcuda.cuDeviceGetCount(ctypes.byref(count))) == CUDA_SUCCESS


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _become_run(req: dict[str, Any], server_pid: int) -> bool:
    """In a forked child: a session of its own that dies with the server, with the request's environment
    and working directory. False if the server is already gone."""
    os.setsid()
    die_with_parent(signal.SIGKILL)
    if os.getppid() != server_pid:  # the server ended before the line above
        return False
    for sig in (signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    env = {str(k): str(v) for k, v in req["env"].items()}
    os.environ.clear()
    os.environ.update(env)
    for entry in reversed([p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    os.chdir(req["cwd"])
    return True


def _redirect(path: str | None) -> None:
    """Standard input from /dev/null; output to ``path`` (None: /dev/null too)."""
    null = os.open(os.devnull, os.O_RDWR)
    out = null if path is None else os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    for fd in {null, out}:
        os.close(fd)


def _run(req: dict[str, Any]) -> int:
    _redirect(os.path.join(req["dir"], "worker.log"))
    from wattsup.bench.worker import main

    return main(list(req["argv"]))


def _child(req: dict[str, Any], server_pid: int) -> int:
    """In the forked child: become the run's process and run the worker."""
    if not _become_run(req, server_pid):
        return EXIT_PARENT_GONE
    os.environ[WORKER_START_ENV] = "forked"
    return _run(req)


def warm_cuda() -> None:
    """What a CUDA run pays before its first kernel, paid ahead: the context, a cuBLAS handle, and the
    meter's shared sampler (its own process, with this process as the one it meters)."""
    import torch

    if torch.cuda.is_available():  # (else a CPU-only machine: the sampler alone)
        a = torch.ones(64, 64, device="cuda")
        (a @ a).sum().item()
        torch.cuda.synchronize()
        del a
    from wattsup.meter import shared_sampler

    shared_sampler()


def _spare(req: dict[str, Any], server_pid: int, rfd: int, wfd: int) -> int:
    """In a spare: become a process for runs like ``req``, warm up, then run the request handed over."""
    os.close(wfd)  # the server's end: closing it there must read as the end here
    if not _become_run(req, server_pid):
        return EXIT_PARENT_GONE
    _redirect(None)
    warm_cuda()
    with os.fdopen(rfd, "rb") as handover:
        line = handover.readline()
    if not line:  # the server took the spare back
        return 0
    os.environ[WORKER_START_ENV] = "spare"
    return _run(json.loads(line))


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


def _fork(body: Callable[[], int]) -> int:
    """Fork a child that runs ``body`` and exits with its code (it never returns into the server)."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = body()
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    return pid


class Spare:
    """A forked child warmed up for runs with one environment and working directory (see the module)."""

    def __init__(self, req: dict[str, Any], server_pid: int) -> None:
        self.key = self.key_of(req)
        rfd, self.wfd = os.pipe()
        self.pid = _fork(functools.partial(_spare, req, server_pid, rfd, self.wfd))
        os.close(rfd)

    @staticmethod
    def key_of(req: dict[str, Any]) -> str:
        return json.dumps([req["env"], req["cwd"]], sort_keys=True)

    def alive(self) -> bool:
        with contextlib.suppress(ChildProcessError):
            return os.waitpid(self.pid, os.WNOHANG)[0] == 0
        return False

    def hand(self, req: dict[str, Any]) -> int:
        """Give it the run; its pid."""
        with os.fdopen(self.wfd, "wb") as w:
            w.write(json.dumps(req).encode() + b"\n")
        return self.pid

    def discard(self) -> None:
        """Take it back: its pipe closed (it ends by itself once warm), and ended now."""
        with contextlib.suppress(OSError):
            os.close(self.wfd)
        _kill_child(self.pid)


def _wants_spare(req: dict[str, Any]) -> bool:
    return req.get("warm") == "cuda" and str(req["env"].get(SPARE_ENV, "1")) != "0"


def serve(parent: int) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the runner's to handle
    if os.getppid() != parent:
        return EXIT_PARENT_GONE
    try:
        failed = preload()
    except RuntimeError as e:  # children could not use CUDA: say why instead of forking them
        _say({"ready": False, "error": str(e)})
        return 1
    _say({"ready": True, "pid": os.getpid(), "failed": failed, "threads": threading.active_count()})
    me = os.getpid()
    spare: Spare | None = None
    try:
        while True:
            line = sys.stdin.buffer.readline()
            if not line:
                return 0
            req = json.loads(line)
            warm = _wants_spare(req)
            pid = None
            if warm and spare is not None and spare.key == Spare.key_of(req) and spare.alive():
                try:
                    pid = spare.hand(req)
                except OSError:  # it ended just now: a fresh child instead
                    spare.discard()
                spare = None
            elif warm and spare is not None:  # for other runs than this one's: take it back
                spare.discard()
                spare = None
            if pid is None:
                pid = _fork(functools.partial(_child, req, me))
            _say({"pid": pid})
            if warm and spare is None:
                spare = Spare(req, me)
            ended = _wait(pid, str(req["dir"]), parent)
            if ended is None:
                return 0
            _say({"exit": ended})
    finally:
        if spare is not None:
            spare.discard()


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
