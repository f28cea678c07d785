"""Documented power models for CPU and RAM where no energy counter exists (VMs, CI, most laptops).

These are estimates, labelled ``modeled`` everywhere, with a wide error bound; never a measurement.

CPU: package power = TDP × f(utilisation), with f the load curve published by Teads (B. Davy,
"Building an AWS EC2 carbon emissions dataset", 2021; used by Boavizta): 12% of TDP idle, 32% at 10%
load, 75% at 50%, 102% at 100%, linear in between. TDP comes from the packaged table
``data/cpu_tdp.csv`` (vendor spec pages, with sources) by CPU model name, times the number of sockets.
An unknown CPU gets the table's median watts per physical core times its physical cores.

RAM: 0.375 W per GB installed (3 W per 8 GB: CodeCarbon 2.x, the value behind the Power Hungry
Processing logs; Green Algorithms uses 0.3725 W/GB).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import importlib.resources
import itertools
import os
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

LOAD_CURVE = ((0.0, 0.12), (0.10, 0.32), (0.50, 0.75), (1.00, 1.02))
RAM_W_PER_GB = 0.375
MODELED_RELATIVE_BOUND = 0.5
"""Error bound of a modelled figure, as a fraction of it. Models of this kind are off by tens of percent
against wall meters; ±50% is a plausible span, not a calibrated one."""


@dataclass(frozen=True)
class CpuSpec:
    model: str
    tdp_w: float
    sockets: int
    physical_cores: int | None
    source: str


@functools.cache
def tdp_table() -> tuple[dict[str, str], ...]:
    ref = importlib.resources.files("wattsup") / "data" / "cpu_tdp.csv"
    with ref.open("r", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def _normalise(name: str) -> str:
    s = name.lower()
    s = re.sub(r"\((r|tm)\)|®|™", " ", s)
    s = re.sub(r"@.*$", " ", s)
    s = re.sub(r"\b(intel|amd|cpu|processor|\d+-core)\b", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def cpu_model_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


def socket_count(cpuinfo: Path = Path("/proc/cpuinfo")) -> int:
    try:
        ids = {
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("physical id")
        }
    except OSError:
        return 1
    return max(1, len(ids))


def lookup_tdp(model: str) -> dict[str, str] | None:
    """The table row whose model name appears in ``model`` (longest match wins), or ``None``."""
    norm = _normalise(model)
    best: dict[str, str] | None = None
    for row in tdp_table():
        key = _normalise(row["model"])
        if (
            key
            and re.search(r"(^|\s)" + re.escape(key) + r"($|\s)", norm)
            and (best is None or len(key) > len(_normalise(best["model"])))
        ):
            best = row
    return best


def default_w_per_core() -> float:
    return statistics.median(float(r["tdp_w"]) / float(r["cores"]) for r in tdp_table())


def cpu_spec(model: str | None = None, tdp_w: float | None = None) -> CpuSpec:
    """TDP of this machine's CPUs: given, from the table, or the documented default for unknown CPUs."""
    name = model or cpu_model_name()
    sockets = socket_count()
    cores = psutil.cpu_count(logical=False)
    if tdp_w is not None:
        return CpuSpec(name, float(tdp_w), 1, cores, "given by the user")
    row = lookup_tdp(name)
    if row is not None:
        return CpuSpec(
            name,
            float(row["tdp_w"]) * sockets,
            sockets,
            cores,
            f"TDP {row['tdp_w']} W × {sockets} socket(s) ({row['source']})",
        )
    n = cores or psutil.cpu_count() or 1
    w = default_w_per_core()
    return CpuSpec(
        name,
        w * n,
        sockets,
        cores,
        f"unknown CPU: {w:.2f} W per core (median of the packaged TDP table) × {n} cores",
    )


def load_fraction(utilisation: float) -> float:
    """Fraction of TDP drawn at ``utilisation`` (0–1), from the load curve."""
    u = min(max(utilisation, 0.0), 1.0)
    for (x0, y0), (x1, y1) in itertools.pairwise(LOAD_CURVE):
        if u <= x1:
            return y0 + (y1 - y0) * (u - x0) / (x1 - x0)
    return LOAD_CURVE[-1][1]


HOST_IDLE_FIELDS = ("idle", "iowait", "steal", "guest", "guest_nice")
"""Fields of the host's CPU times that are not busy time of this host's processes (guest time is already
counted in user time on Linux; steal is another machine's)."""


def host_busy_cpu_s() -> float:
    """Busy CPU seconds of the whole host since boot, summed over all CPUs."""
    t = psutil.cpu_times()
    return float(sum(v for k, v in t._asdict().items() if k not in HOST_IDLE_FIELDS))


def proc_descendants(pid: int, proc: str = "/proc") -> list[int] | None:
    """The pids of process ``pid``'s descendants from the kernel's ``children`` files of each of their threads
    (Linux 3.5+, ``CONFIG_PROC_CHILDREN``), or None where there are none to read (another OS, a kernel built
    without them, ``pid`` gone): the caller then asks psutil, which reads every process of the host."""
    if not os.path.exists(f"{proc}/{pid}/task/{pid}/children"):
        return None
    out: list[int] = []
    todo = [pid]
    seen = {pid}
    while todo:
        p = todo.pop()
        try:
            tids = os.listdir(f"{proc}/{p}/task")
        except OSError:  # exited meanwhile
            continue
        for tid in tids:
            try:
                with open(f"{proc}/{p}/task/{tid}/children") as f:
                    kids = f.read().split()
            except OSError:  # the thread ended meanwhile
                continue
            for k in kids:
                c = int(k)
                if c not in seen:
                    seen.add(c)
                    out.append(c)
                    todo.append(c)
    return out


class ProcessTree:
    """Busy CPU seconds of a process and its descendants (children it has reaped included), without the
    processes in ``exclude`` (the meter's own sampler process).

    Finding the descendants is done at most every ``rescan_s``; between scans only the known members' times
    are read (~10-20 µs each). On Linux a scan reads the ``children`` file of each thread of the tree
    (``/proc/PID/task/TID/children``: ~5 µs a thread); elsewhere, or where the kernel has no such files,
    psutil reads every process of the host (0.45 ms with 68 processes on the development VM; ~3 ms per scan
    on a 16-core GPU host, where it was most of the sampler's CPU model cost). A child born since the last
    scan is counted from the next one on, with the CPU time it has used by then."""

    def __init__(self, proc: psutil.Process, exclude: frozenset[int] = frozenset(), rescan_s: float = 1.0):
        self.proc = proc
        self.exclude = exclude
        self.rescan_s = rescan_s
        self._members: list[psutil.Process] = []
        self._scanned = -float("inf")

    @classmethod
    @functools.cache
    def shared(cls, pid: int, exclude: frozenset[int] = frozenset()) -> ProcessTree:
        """One tree per process and exclusion in this process: the CPU model and the host-load track read
        the same one, so the host is scanned once for both."""
        return cls(psutil.Process(pid), exclude)

    def _scan(self, now: float) -> None:
        pids = proc_descendants(self.proc.pid)
        if pids is None:
            with contextlib.suppress(psutil.Error):
                self._members = [p for p in self.proc.children(recursive=True) if p.pid not in self.exclude]
        else:
            known = {p.pid: p for p in self._members}
            members = []
            for pid in pids:
                if pid in self.exclude:
                    continue
                p = known.get(pid)
                if p is None or not p.is_running():  # a new child, or a pid reused since the last scan
                    try:
                        p = psutil.Process(pid)
                    except psutil.Error:  # gone already
                        continue
                members.append(p)
            self._members = members
        self._scanned = now

    def cpu_s(self) -> float:
        now = time.monotonic()
        if now - self._scanned >= self.rescan_s:
            self._scan(now)
        total = 0.0
        gone = []
        for p in [self.proc, *self._members]:
            try:
                t = p.cpu_times()
            except psutil.Error:
                gone.append(p)
                continue
            total += t.user + t.system
            if p is self.proc:  # what the root's exited children used stays with the root
                total += t.children_user + t.children_system
        if gone:
            self._members = [p for p in self._members if p not in gone]
        return total


class CpuUtilisation:
    """Utilisation since the previous call: of the whole machine, or the share of one process tree.

    ``pid=None``: machine-wide (as CodeCarbon's machine mode and the Power Hungry Processing logs).
    ``pid=N``: busy CPU time of process N and its descendants over the interval, over all CPUs; the
    processes in ``exclude`` (the meter's own sampler) are left out.
    """

    def __init__(self, pid: int | None = None, exclude: frozenset[int] = frozenset()) -> None:
        self.pid = pid
        self.exclude = exclude
        self.ncpu = psutil.cpu_count() or 1
        self._proc = psutil.Process(pid) if pid is not None else None
        self._tree = ProcessTree.shared(pid, exclude) if pid is not None else None
        self._last_cpu = self._tree_cpu_s() if self._proc else None
        self._last_t = time.monotonic()
        psutil.cpu_percent(interval=None)

    def _tree_cpu_s(self) -> float:
        assert self._tree is not None
        return self._tree.cpu_s()

    def sample(self) -> float:
        if self._proc is None:
            return float(psutil.cpu_percent(interval=None)) / 100.0
        now = time.monotonic()
        cpu = self._tree_cpu_s()
        assert self._last_cpu is not None
        dt = max(now - self._last_t, 1e-6)
        # A process tree's CPU time can only grow; a child that exited takes its time with it.
        used = max(cpu - self._last_cpu, 0.0)
        self._last_cpu, self._last_t = max(cpu, self._last_cpu), now
        return min(used / (dt * self.ncpu), 1.0)


def ram_installed_gb() -> float:
    return psutil.virtual_memory().total / 1e9


def ram_power_w(gb: float | None = None) -> float:
    return RAM_W_PER_GB * (ram_installed_gb() if gb is None else gb)


def in_vm() -> bool:
    """Best-effort: the CPU flags say we run under a hypervisor."""
    try:
        return " hypervisor" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def cpu_tdp_override() -> float | None:
    v = os.environ.get("WATTSUP_CPU_TDP_W")
    return float(v) if v else None
