"""The default meter's sampler process, for real: a child interpreter reading this machine's sensors (the
CPU and RAM models on CI), windows finalised there, its life tied to the measured process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.processes import wait_gone
from wattsup.meter import Meter, meter
from wattsup.meter.process import SAMPLER_CPU_ENV, ProcessSampler, SamplerProcessError
from wattsup.meter.window import Node


@pytest.fixture
def proc_sampler() -> Iterator[ProcessSampler]:
    s = ProcessSampler(cpu_pid=os.getpid())
    s.start()
    yield s
    s.stop()


def test_meter_through_the_sampler_process(proc_sampler: ProcessSampler) -> None:
    assert proc_sampler.running and proc_sampler.pid not in (None, os.getpid())
    assert {s.component for s in proc_sampler.statuses if s.available} >= {"cpu", "ram"}
    m = Meter(sources=None, sync=None)
    m.sampler = proc_sampler  # this test's sampler, not the process-wide one
    with m:  # phases longer than the CPU model's 0.25 s polls, so it can tell them apart
        with m.phase("spin"):
            t = time.monotonic()
            while time.monotonic() - t < 0.75:
                pass
        with m.phase("sleep"):
            time.sleep(0.75)
    meas = m.measurement
    assert meas is not None
    assert {c.name for c in meas.components} >= {"cpu", "ram"}
    assert all(c.energy_j > 0 for c in meas.components)
    spin, sleep = meas.phase("spin"), meas.phase("sleep")
    assert spin.duration_s == pytest.approx(0.75, abs=0.05)
    # this process tree's own CPU time is charged: spinning costs more CPU energy than sleeping
    assert spin.component("cpu").energy_j > sleep.component("cpu").energy_j
    assert meas.background_cpu_share is not None and 0.0 <= meas.background_cpu_share <= 1.0
    assert "this process tree's CPU time" in meas.component("cpu").detail


def test_measure_over_the_pipe_keeps_many_phase_intervals(proc_sampler: ProcessSampler) -> None:
    root = Node("w")
    t0 = time.monotonic()
    node = root.child("p")
    node.intervals = [(t0 + i * 1e-4, t0 + i * 1e-4 + 5e-5) for i in range(5000)]
    end = t0 + 0.6
    root.intervals = [(t0, end)]
    time.sleep(max(end - time.monotonic(), 0) + 0.01)
    meas = proc_sampler.measure(root, end, keep_timeline=False)
    assert meas.phase("p").duration_s == pytest.approx(0.25)
    assert meas.duration_s == pytest.approx(0.6)


def test_the_sampler_process_ends_with_its_parent_even_on_sigkill() -> None:
    code = textwrap.dedent(
        """
        import os, sys, time
        from wattsup.meter import Meter, shared_sampler
        s, _ = shared_sampler()
        print(s.pid, flush=True)
        with Meter(sync=None):
            time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        sampler_pid = int(child.stdout.readline())
        assert psutil.pid_exists(sampler_pid)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert wait_gone([sampler_pid], 10) == [], "the sampler process outlived the measured process"
    finally:
        child.kill()


def test_ctrl_c_does_not_take_the_sampler_away(proc_sampler: ProcessSampler) -> None:
    assert proc_sampler.pid is not None
    os.kill(proc_sampler.pid, signal.SIGINT)
    time.sleep(0.3)
    assert proc_sampler.running
    t = time.monotonic()
    root = Node("w", intervals=[(t, t + 0.05)])
    time.sleep(0.06)
    assert proc_sampler.measure(root, t + 0.05, False).duration_s == pytest.approx(0.05)


def test_a_forked_child_meters_with_a_sampler_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meter, "_shared", None)
    monkeypatch.setattr(meter, "_shared_sources", None)
    parent_sampler, _ = meter.shared_sampler()
    assert isinstance(parent_sampler, ProcessSampler)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own sampler, the parent's untouched
        os.close(r)
        try:
            with Meter(sync=None) as m:
                time.sleep(0.05)
            ok = m.measurement is not None and m.sampler is not parent_sampler
            os.write(w, b"1" if ok and m.measurement.total_energy_j > 0 else b"0")
        finally:
            os._exit(0)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1" and os.waitstatus_to_exitcode(status) == 0
    os.close(r)
    with Meter(sync=None) as m:  # the parent's sampler still answers
        time.sleep(0.01)
    assert m.sampler is parent_sampler and parent_sampler.running
    parent_sampler.stop()


def test_the_thread_sampler_can_be_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    from wattsup.meter.sampler import Sampler

    monkeypatch.setenv("WATTSUP_SAMPLER", "thread")
    monkeypatch.setattr(meter, "_shared", None)
    monkeypatch.setattr(meter, "_shared_sources", None)
    s, _ = meter.shared_sampler()
    try:
        assert isinstance(s, Sampler)
    finally:
        s.stop()
    monkeypatch.setenv("WATTSUP_SAMPLER", "fibre")
    monkeypatch.setattr(meter, "_shared", None)
    with pytest.raises(Exception, match="WATTSUP_SAMPLER must be"):
        meter.shared_sampler()


def test_scoping_the_cpu_once_the_sampler_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sampler already charging this process's tree (a worker started ahead of its run) takes the same
    scope again as a no-op; another scope is an error that says what to do."""
    monkeypatch.setenv("WATTSUP_SAMPLER", "thread")
    for name in ("_shared", "_shared_sources", "_shared_cpu_pid"):
        monkeypatch.setattr(meter, name, None)
    monkeypatch.setattr(meter, "_shared_cpu_machine", False)
    s, _ = meter.shared_sampler()
    try:
        meter.scope_cpu_to_process()
        meter.scope_cpu_to_process(os.getpid())
        with pytest.raises(Exception, match="scope the CPU before the first Meter"):
            meter.scope_cpu_to_process(os.getpid() + 1)
        with pytest.raises(Exception, match="scope the CPU before the first Meter"):
            meter.scope_cpu_to_machine()
    finally:
        s.stop()


def test_windows_measured_later_come_back_to_their_own_callers(proc_sampler: ProcessSampler) -> None:
    """Replies come back in the order the windows went; taking a later one first keeps the earlier ones."""
    t0 = time.monotonic()
    roots, calls = [], []
    for k in range(3):
        root = Node(f"w{k}")
        root.intervals = [(t0 + 0.1 * k, t0 + 0.1 * k + 0.05 * (k + 1))]
        roots.append(root)
    time.sleep(max(t0 + 0.35 - time.monotonic(), 0.0))
    for root in roots:
        calls.append(proc_sampler.measure_later(root, root.intervals[-1][1], keep_timeline=False))
    got = [calls[i]() for i in (2, 0, 1)]
    assert [m.name for m in got] == ["w2", "w0", "w1"]
    assert [m.duration_s for m in got] == pytest.approx([0.15, 0.05, 0.1])
    assert proc_sampler.measure(roots[0], roots[0].intervals[-1][1], False).name == "w0"  # still in step


def test_a_window_waiting_when_the_sampler_stops_says_so(proc_sampler: ProcessSampler) -> None:
    root = Node("w")
    t0 = time.monotonic()
    root.intervals = [(t0, t0 + 30.0)]  # ends in the future: the sampler process waits for it
    call = proc_sampler.measure_later(root, t0 + 30.0, keep_timeline=False)
    proc_sampler.stop()
    with pytest.raises(SamplerProcessError, match="stopped before this window's result came"):
        call()


def test_the_sampler_process_says_where_its_cpu_goes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``WATTSUP_SAMPLER_CPU_DIR``: when the sampler process stops, its CPU seconds by use."""
    monkeypatch.setenv(SAMPLER_CPU_ENV, str(tmp_path / "cpu"))
    s = ProcessSampler(cpu_pid=os.getpid())
    s.start()
    try:
        m = Meter(sources=None, sync=None)
        m.sampler = s
        for _ in range(2):
            with m, m.phase("p"):
                time.sleep(0.3)
        pid = s.pid
    finally:
        s.stop()
    report = json.loads((tmp_path / "cpu" / f"sampler-cpu__{pid}.json").read_text())
    assert report["pid"] == pid and report["seconds_since_ready"] > 0.6
    by = report["cpu_s_by"]
    assert {"poll cpu", "poll ram", "measure"} <= set(by) and all(v >= 0 for v in by.values())
    assert by["measure"] > 0  # two windows measured, each a Measurement built
    assert report["polls"]["poll cpu"] >= 2  # the CPU model polls every 0.25 s
    assert report["cpu_s_total"] >= report["cpu_s_at_ready"] > 0  # imports and discovery at least
    assert report["cpu_s_other_since_ready"] > -1e-3  # the parts fit inside the process's own CPU time


def test_the_sampler_process_keeps_numpy_to_one_thread() -> None:
    """Its arrays are small; a math-library thread per core would spin on the host's CPUs for nothing."""
    pytest.importorskip("numpy")
    sampler = ProcessSampler(cpu_pid=os.getpid(), gpu=False)  # no GPU library's threads, wherever it runs
    sampler.start()
    try:
        m = Meter(sources=None, sync=None)
        m.sampler = sampler
        with m:  # enough phases for the vectorised estimates, so numpy is loaded there
            for _ in range(200):
                with m.phase("p"):
                    pass
            time.sleep(0.3)
        assert m.measurement is not None and m.measurement.phase("p").duration_s > 0
        child = psutil.Process(sampler.pid)
        env = child.environ()
        assert all(env.get(v) == "1" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"))
        assert "numpy" in " ".join(mm.path for mm in child.memory_maps())  # loaded: the setting mattered
        assert child.num_threads() <= 2  # the serving loop and the sampling thread, no math workers
    finally:
        sampler.stop()


def test_the_cpu_report_counts_each_gpu_counters_reads(tmp_path: Path) -> None:
    """The report says what the GPU counter's reads were: how many, their wall time, the steps bracketed
    and the sample-buffer drains (on a simulated GPU: this host may have none)."""
    from tests.fakes.gpu_sim import T0, gpu_simulation
    from tests.fakes.nvml import FakeGpu
    from wattsup.meter.counter_track import SAMPLES_EVERY_S, CounterTrack
    from wattsup.meter.process import _write_cpu_report

    with gpu_simulation(FakeGpu(power=300.0), guarded=True) as sim:
        sim.run_to(T0 + 6.0)
        _write_cpu_report(tmp_path, sim.sampler, 6.0, 0.0, {"sampling": 0.1})
        tr = getattr(sim.tracks[0], "primary", sim.tracks[0])
        assert isinstance(tr, CounterTrack)
        want = {"reads": tr.reads, "read_s": tr.read_s, "brackets": tr.brackets, "drains": tr.drains}
    (path,) = tmp_path.glob("sampler-cpu__*.json")
    got = json.loads(path.read_text())["counter_reads"]
    assert got == {"gpu:0": want}
    assert want["brackets"] >= 3 and want["reads"] > want["brackets"]
    assert want["drains"] >= 6 / SAMPLES_EVERY_S - 1
