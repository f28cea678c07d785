"""The documented CPU (TDP × Teads load curve) and RAM (W per GB) models."""

from __future__ import annotations

import contextlib
import csv
import importlib.resources
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattsup.sensors import models

CASCADE_LAKE = "Intel(R) Xeon(R) Platinum 8275CL CPU @ 3.00GHz"


@pytest.fixture
def one_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "socket_count", lambda *a: 1)


def _packaged_rows() -> list[dict[str, str]]:
    with (importlib.resources.files("wattsup") / "data" / "cpu_tdp.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------- TDP table


def test_table_rows_are_complete() -> None:
    rows = _packaged_rows()
    assert len(rows) > 20
    for r in rows:
        assert r["model"] and r["source"], r
        assert float(r["tdp_w"]) > 0 and int(r["cores"]) > 0, r


@pytest.mark.parametrize(
    ("name", "tdp"),
    [
        (CASCADE_LAKE, 240),
        ("Intel(R) Xeon(R) CPU E5-2686 v4 @ 2.30GHz", 145),
        ("Intel(R) Xeon(R) Platinum 8480+", 350),
        ("AMD EPYC 7763 64-Core Processor", 280),
        ("AMD Ryzen 9 5950X 16-Core Processor", 105),
        ("12th Gen Intel(R) Core(TM) i9-12900K", 125),
    ],
)
def test_lookup_tdp(name: str, tdp: float) -> None:
    row = models.lookup_tdp(name)
    assert row is not None
    assert float(row["tdp_w"]) == tdp


@pytest.mark.parametrize(
    "name",
    ["Intel(R) Xeon(R) Processor", "Intel(R) Xeon(R) Platinum 82800", "AMD EPYC 77630", "unknown CPU", ""],
)
def test_lookup_tdp_needs_a_whole_model_name(name: str) -> None:
    assert models.lookup_tdp(name) is None


def test_longest_match_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = (
        {"model": "EPYC 7763", "cores": "64", "tdp_w": "280", "source": "a"},
        {"model": "EPYC 7763 X", "cores": "64", "tdp_w": "300", "source": "b"},
    )
    monkeypatch.setattr(models, "tdp_table", lambda: rows)
    assert models.lookup_tdp("AMD EPYC 7763 X Processor") == rows[1]
    assert models.lookup_tdp("AMD EPYC 7763 Processor") == rows[0]


def test_cpu_spec_from_the_table(one_socket: None) -> None:
    spec = models.cpu_spec(model=CASCADE_LAKE)
    assert spec.tdp_w == 240
    assert spec.sockets == 1
    assert spec.model == CASCADE_LAKE
    assert "TDP 240 W × 1 socket(s)" in spec.source and "AWS" in spec.source


def test_cpu_spec_counts_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "socket_count", lambda *a: 2)
    spec = models.cpu_spec(model=CASCADE_LAKE)
    assert spec.tdp_w == 480 and spec.sockets == 2


def test_unknown_cpu_gets_the_documented_default(one_socket: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table's median watts per physical core, times this machine's physical cores."""
    median = statistics.median(float(r["tdp_w"]) / float(r["cores"]) for r in _packaged_rows())
    assert models.default_w_per_core() == pytest.approx(median)
    monkeypatch.setattr(models.psutil, "cpu_count", lambda logical=True: 16 if logical else 8)
    spec = models.cpu_spec(model="Intel(R) Xeon(R) Processor")
    assert spec.tdp_w == pytest.approx(median * 8)
    assert spec.physical_cores == 8
    assert spec.source.startswith("unknown CPU:") and "median" in spec.source and "× 8 cores" in spec.source


def test_unknown_cpu_without_physical_core_count(one_socket: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models.psutil, "cpu_count", lambda logical=True: 4 if logical else None)
    spec = models.cpu_spec(model="Some Future CPU")
    assert spec.tdp_w == pytest.approx(models.default_w_per_core() * 4)


def test_tdp_given_by_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = models.cpu_spec(model=CASCADE_LAKE, tdp_w=95)
    assert (spec.tdp_w, spec.sockets, spec.source) == (95.0, 1, "given by the user")
    monkeypatch.setenv("WATTSUP_CPU_TDP_W", "150.5")
    assert models.cpu_tdp_override() == 150.5
    monkeypatch.setenv("WATTSUP_CPU_TDP_W", "")
    assert models.cpu_tdp_override() is None


def test_this_machine_has_a_spec() -> None:
    spec = models.cpu_spec()
    assert spec.tdp_w > 0 and spec.sockets >= 1 and spec.model


# --------------------------------------------------------------------------- /proc/cpuinfo


def test_cpuinfo_parsing(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nmodel name\t: " + CASCADE_LAKE + "\nphysical id\t: 0\n\n"
        "processor\t: 1\nmodel name\t: " + CASCADE_LAKE + "\nphysical id\t: 1\n\n"
        "processor\t: 2\nmodel name\t: " + CASCADE_LAKE + "\nphysical id\t: 1\n"
    )
    assert models.cpu_model_name(info) == CASCADE_LAKE
    assert models.socket_count(info) == 2
    bare = tmp_path / "bare"
    bare.write_text("processor\t: 0\n")  # e.g. some ARM VMs: no physical id
    assert models.socket_count(bare) == 1
    assert models.socket_count(tmp_path / "missing") == 1
    assert models.cpu_model_name(tmp_path / "missing")  # falls back to platform.processor() or a placeholder


# --------------------------------------------------------------------------- load curve


@pytest.mark.parametrize(("u", "f"), models.LOAD_CURVE)
def test_load_fraction_matches_the_curve_points(u: float, f: float) -> None:
    assert models.load_fraction(u) == pytest.approx(f)


def test_load_fraction_is_the_published_curve() -> None:
    assert models.LOAD_CURVE == ((0.0, 0.12), (0.10, 0.32), (0.50, 0.75), (1.00, 1.02))
    assert models.load_fraction(0.3) == pytest.approx(0.535)  # linear between 10% and 50%
    assert models.load_fraction(-0.5) == pytest.approx(0.12)
    assert models.load_fraction(3.0) == pytest.approx(1.02)


@settings(deadline=None, derandomize=True)
@given(st.floats(min_value=-1.0, max_value=2.0), st.floats(min_value=-1.0, max_value=2.0))
def test_load_fraction_is_monotonic(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert models.load_fraction(lo) <= models.load_fraction(hi)
    assert 0.12 <= models.load_fraction(lo) <= 1.02


# --------------------------------------------------------------------------- RAM and utilisation


def test_ram_power() -> None:
    assert models.RAM_W_PER_GB == 0.375
    assert models.ram_power_w(16) == pytest.approx(6.0)
    assert models.ram_power_w() == pytest.approx(0.375 * models.ram_installed_gb())
    assert models.ram_installed_gb() > 0


@pytest.mark.parametrize("pid", [None, os.getpid()])
def test_cpu_utilisation_is_a_fraction(pid: int | None) -> None:
    util = models.CpuUtilisation(pid)
    sum(i * i for i in range(20_000))
    for _ in range(3):
        assert 0.0 <= util.sample() <= 1.0


def test_modeled_bound_is_wide() -> None:
    assert models.MODELED_RELATIVE_BOUND == 0.5


# --------------------------------------------------------------------------- the process tree


def _fake_proc(root: Path, threads: dict[int, dict[int, str]]) -> Path:
    """A /proc of processes (pid → {tid: the thread's 'children' file}) under ``root``."""
    for pid, tids in threads.items():
        for tid, kids in tids.items():
            d = root / str(pid) / "task" / str(tid)
            d.mkdir(parents=True)
            (d / "children").write_text(kids)
    return root


def test_descendants_come_from_every_thread_children_file(tmp_path: Path) -> None:
    """Children forked by any thread, their own children, once each, even where the files disagree."""
    proc = _fake_proc(
        tmp_path,
        {
            100: {100: "101 102 ", 105: "103"},  # a child forked by another thread of the process
            101: {101: "104"},
            102: {102: ""},
            103: {103: "100"},  # a cycle (pid reuse between reads) must not loop
            104: {104: ""},
        },
    )
    got = models.proc_descendants(100, str(proc))
    assert got is not None and sorted(got) == [101, 102, 103, 104]


def test_descendants_are_none_where_the_kernel_has_no_children_files(tmp_path: Path) -> None:
    (tmp_path / "100" / "task" / "100").mkdir(parents=True)  # no 'children' file: CONFIG_PROC_CHILDREN off
    assert models.proc_descendants(100, str(tmp_path)) is None
    assert models.proc_descendants(999, str(tmp_path)) is None  # the process is gone


def test_a_process_that_exits_during_the_scan_is_skipped(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path, {100: {100: "101 102"}, 102: {102: ""}})  # 101 exited: no /proc entry
    got = models.proc_descendants(100, str(proc))
    assert got is not None and sorted(got) == [101, 102]


@contextlib.contextmanager
def _spawned_tree() -> Iterator[tuple[int, int]]:
    """A child that starts a grandchild: (child's pid, grandchild's pid) once both run; killed after."""
    code = (
        "import subprocess, sys, time\n"
        "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(g.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    try:
        yield child.pid, int(child.stdout.readline())
    finally:
        for p in psutil.Process(child.pid).children(recursive=True):
            p.kill()
        child.kill()
        child.wait()
        child.stdout.close()


def test_the_tree_of_a_real_process_matches_psutil() -> None:
    """The kernel's files and psutil's scan of every process find the same descendants, and the tree's
    members include them (where this kernel has the files; the fallback is tested below)."""
    with _spawned_tree() as (child, grandchild):
        got = models.proc_descendants(child)
        if got is None:
            pytest.skip("this kernel has no /proc/PID/task/TID/children files")
        want = {p.pid for p in psutil.Process(child).children(recursive=True)}
        assert set(got) == want == {grandchild}
        tree = models.ProcessTree(psutil.Process(os.getpid()))
        tree._scan(0.0)
        assert {child, grandchild} <= {p.pid for p in tree._members}
        excl = models.ProcessTree(psutil.Process(os.getpid()), exclude=frozenset({grandchild}))
        excl._scan(0.0)
        assert child in {p.pid for p in excl._members}
        assert grandchild not in {p.pid for p in excl._members}


def test_without_the_kernel_files_the_tree_asks_psutil(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "proc_descendants", lambda pid: None)
    with _spawned_tree() as (child, grandchild):
        tree = models.ProcessTree(psutil.Process(os.getpid()), exclude=frozenset({child}))
        tree._scan(0.0)
        pids = {p.pid for p in tree._members}
        assert grandchild in pids and child not in pids


def test_a_member_whose_pid_was_reused_is_looked_up_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A known member that is no longer the process it was (pid reuse) is replaced by a fresh lookup."""
    me = psutil.Process(os.getpid())
    tree = models.ProcessTree(me)
    stale = psutil.Process(os.getpid())
    monkeypatch.setattr(stale, "is_running", lambda: False)
    tree._members = [stale]
    monkeypatch.setattr(models, "proc_descendants", lambda pid: [os.getpid()])
    tree._scan(0.0)
    (member,) = tree._members
    assert member is not stale and member.pid == os.getpid()
