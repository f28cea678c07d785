"""The shared sampler in a process of its own, so the measured program cannot disturb it.

A meter in the measured process records only timestamps. The sensors are read by a child process
(:func:`main` in a fresh interpreter) that runs the ordinary :class:`~wattsup.meter.sampler.Sampler`:
its own interpreter and GIL, so a workload that holds the GIL (a Python-bound loop, a kernel launch that
blocks) delays neither a counter read nor the clock reads around it, and the readings cost the measured
process nothing. Both processes read ``CLOCK_MONOTONIC``, which is one clock for the whole host.

The two talk over a socket pair with :mod:`multiprocessing.connection`'s framing: ``pin``/``unpin`` (a
window opened and closed, one-way, a few microseconds) and ``measure`` (the window's tree of intervals
goes over, its :class:`Measurement` comes back once the sensors have observed past its end).

The child ends when the parent closes its end of the pair (its exit, even by SIGKILL, does; no
parent-death signal, which Linux ties to the thread that started the child, not its process), and it
ignores SIGINT, so a Ctrl-C meant for the program does not take the meter away mid-window.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattsup.errors import WattsupError
from wattsup.meter.counter_track import CounterTrack
from wattsup.meter.measurement import Measurement
from wattsup.meter.window import Node
from wattsup.sensors.base import SensorStatus

if TYPE_CHECKING:
    from wattsup.meter.sampler import Sampler

CHILD_MAIN = "import sys; from wattsup.meter.process import main; sys.exit(main(sys.argv))"
START_TIMEOUT_S = 60.0
REPLY_TIMEOUT_S = 30.0
WARMUP_S = 0.25
ONE_THREAD_MATH = {v: "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
"""The sampler's arrays are small: numpy's math libraries get one thread there. With a thread per core
(their default), the sampler process spent CPU outside its own two threads when numpy first ran there:
0.08-0.1 s on the 2-core development VM (0.3-1.4 ms with one thread), and on a 16-core H100 host 2.1 s in
96 s that none of its uses accounts for (benchmarks/RESULTS.md, eighth session)."""
SAMPLER_CPU_ENV = "WATTSUP_SAMPLER_CPU_DIR"
"""A folder: when the sampler process stops, it writes ``sampler-cpu__PID.json`` there: its CPU seconds in
all, at its start (imports, sensor discovery, first reads), by what it spent them on (each track's
polls, trimming, measuring windows; the rest is the pipe and the interpreter) and by thread (sampling,
serving, and what neither spent: threads of the libraries it loads)."""


class SamplerProcessError(WattsupError):
    pass


class ProcessSampler:
    """The parent's handle on a sampler process: the surface the Meter uses (``running``, ``start``,
    ``stop``, ``pin``, ``unpin``, ``measure``) plus ``statuses`` (what ``discover`` found there) and
    ``pid`` (the sampler's own process, left out of the metered process tree's CPU time)."""

    def __init__(self, cpu_pid: int | None = None, gpu: bool = True) -> None:
        self.cpu_pid = cpu_pid
        self.gpu = gpu
        self.statuses: list[SensorStatus] = []
        self.components: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._awaiting: deque[list[tuple[Any, ...]]] = deque()
        """Windows sent for measuring whose replies have not been read yet, oldest first."""
        self._owner = os.getpid()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._owner == os.getpid()

    def start(self) -> None:
        if self.running:
            return
        parent, child = socket.socketpair()
        opts = {"cpu_pid": self.cpu_pid, "gpu": self.gpu}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", CHILD_MAIN, str(child.fileno()), json.dumps(opts)],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **ONE_THREAD_MATH},
            )
        except OSError as e:
            parent.close()
            raise SamplerProcessError(f"could not start the sampler process ({e})") from e
        finally:
            child.close()
        self._conn = Connection(parent.detach())
        self._awaiting.clear()
        self._owner = os.getpid()
        reply = self._recv(START_TIMEOUT_S, "start")
        if reply[0] != "ready":
            self.stop()
            raise SamplerProcessError(f"the sampler process could not start: {reply[1]}")
        self.statuses, self.components = reply[1], reply[2]

    def _recv(self, timeout_s: float, what: str) -> tuple[Any, ...]:
        assert self._conn is not None
        if not self._conn.poll(timeout_s):
            raise SamplerProcessError(f"the sampler process did not answer ({what}) within {timeout_s:g} s")
        try:
            msg = self._conn.recv()
        except (EOFError, OSError) as e:
            code = self._proc.poll() if self._proc is not None else None
            raise SamplerProcessError(f"the sampler process ended (exit status {code}) during {what}") from e
        assert isinstance(msg, tuple)
        return msg

    def _send(self, msg: tuple[Any, ...]) -> None:
        if not self.running or self._conn is None:
            raise SamplerProcessError("the sampler process is not running")
        try:
            self._conn.send(msg)
        except OSError as e:
            raise SamplerProcessError(f"the sampler process is gone ({e})") from e

    def pin(self, t: float) -> None:
        with self._lock:
            self._send(("pin", t))

    def unpin(self, t: float) -> None:
        with self._lock, contextlib.suppress(SamplerProcessError):
            self._send(("unpin", t))

    def poke(self, t: float | None = None) -> None:
        with self._lock:
            self._send(("poke", t))

    def measure(self, root: Node, end: float, keep_timeline: bool, notes: Sequence[str] = ()) -> Measurement:
        return self.measure_later(root, end, keep_timeline, notes)()

    def measure_later(
        self, root: Node, end: float, keep_timeline: bool, notes: Sequence[str] = ()
    ) -> Callable[[], Measurement]:
        """Send the window over now (the sampler process starts waiting for its end at once); the returned
        call takes its Measurement. Replies come back in the order the windows went, so a call for a later
        window first takes the earlier windows' replies off the connection and keeps them for their calls."""
        box: list[tuple[Any, ...]] = []
        with self._lock:
            self._send(("measure", root, end, keep_timeline, list(notes)))
            self._awaiting.append(box)
        return functools.partial(self._take, box)

    def _take(self, box: list[tuple[Any, ...]]) -> Measurement:
        with self._lock:
            while not box:
                if not self._awaiting or self._conn is None:
                    raise SamplerProcessError("the sampler process stopped before this window's result came")
                reply = self._recv(REPLY_TIMEOUT_S, "measure")
                self._awaiting.popleft().append(reply)
            reply = box[0]
        if reply[0] == "error":
            raise SamplerProcessError(f"the sampler process could not finalise the window: {reply[1]}")
        m = reply[1]
        assert isinstance(m, Measurement)
        return m

    def cpu_time_s(self) -> float | None:
        """CPU seconds the sampler process has used so far (its cost), where the OS says."""
        if self._proc is None:
            return None
        try:
            import psutil

            t = psutil.Process(self._proc.pid).cpu_times()
        except Exception:
            return None
        return float(t.user + t.system)

    def stop(self) -> None:
        if self._owner != os.getpid():  # a forked copy: the sampler belongs to the parent
            return
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.send(("stop",))
                self._conn.close()
                self._conn = None
                self._awaiting.clear()
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None


# ------------------------------------------------------------------ the child
def serve(conn: Connection, cpu_pid: int | None, gpu: bool) -> None:
    from wattsup.meter.sampler import Sampler
    from wattsup.meter.sources import discover

    try:
        found = discover(gpu=gpu, pid=cpu_pid, exclude_pids=frozenset({os.getpid()}))
        sampler = Sampler(found.tracks, found.host)
        sampler.start()
        time.sleep(WARMUP_S)  # a first counter tick and a few samples before the first window
    except Exception as e:
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    conn.send(("ready", found.statuses, [t.name for t in found.tracks]))
    folder = os.environ.get(SAMPLER_CPU_ENV)
    if folder:  # its CPU report: the clocks at ready, the rest when it stops
        started, cpu_at_ready = time.monotonic(), time.process_time()
        threads_at_ready = (sampler.thread_cpu_s(), time.thread_time())  # sampling, serving
    try:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                break
            kind = msg[0]
            if kind == "pin":
                sampler.pin(msg[1])
            elif kind == "unpin":
                sampler.unpin(msg[1])
            elif kind == "poke":
                sampler.poke(msg[1])
            elif kind == "measure":
                try:
                    m = sampler.measure(msg[1], msg[2], msg[3], msg[4])
                except Exception as e:
                    conn.send(("error", f"{type(e).__name__}: {e}"))
                else:
                    conn.send(("ok", m))
            elif kind == "stop":
                break
    finally:
        threads = (sampler.thread_cpu_s(), time.thread_time())
        sampler.stop()
        if folder:
            names = ("sampling thread", "serving thread")
            spent = {
                name: (b - a if a is not None and b is not None else None)
                for name, a, b in zip(names, threads_at_ready, threads, strict=True)
            }
            _write_cpu_report(Path(folder), sampler, time.monotonic() - started, cpu_at_ready, spent)


def _write_cpu_report(
    folder: Path, sampler: Sampler, alive_s: float, cpu_at_ready: float, threads: dict[str, float | None]
) -> None:
    total = time.process_time()  # nanoseconds where os.times() counts 10 ms ticks
    known = list(threads.values())
    by = dict(sorted(sampler.cpu_s.items(), key=lambda kv: -kv[1]))
    report = {
        "pid": os.getpid(),
        "python": sys.version.split()[0],
        "seconds_since_ready": alive_s,
        "cpu_s_total": total,
        "cpu_s_at_ready": cpu_at_ready,
        "cpu_share_of_a_core_since_ready": (total - cpu_at_ready) / alive_s if alive_s > 0 else None,
        "cpu_s_by": by,
        "cpu_s_other_since_ready": total - cpu_at_ready - sum(by.values()),
        # each thread's own CPU since ready (the uses above are inside them: polls and trims in the sampling
        # thread, measuring in the serving one), and what neither spent (threads of the libraries it loads)
        "thread_cpu_s_since_ready": threads,
        "cpu_s_outside_these_threads": (
            None if None in known else total - cpu_at_ready - sum(x for x in known if x is not None)
        ),
        "polls": sampler.poll_count,
        # the GPU tracks' sensor reads: counter reads (wall seconds in them), the steps they bracketed,
        # drains of the power-sample buffer
        "counter_reads": {
            tr.name: {"reads": c.reads, "read_s": c.read_s, "brackets": c.brackets, "drains": c.drains}
            for tr in sampler.tracks
            if isinstance(c := getattr(tr, "primary", tr), CounterTrack)
        },
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"sampler-cpu__{os.getpid()}.json").write_text(json.dumps(report, indent=1))
    except OSError as e:
        print(f"wattsup sampler: could not write its CPU report to {folder}: {e}", file=sys.stderr)


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    conn = Connection(int(argv[1]))
    opts = json.loads(argv[2])
    serve(conn, opts.get("cpu_pid"), bool(opts.get("gpu", True)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
