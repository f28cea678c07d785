"""The real background thread: the Sampler, and Meters over it on this machine (no GPU, no RAPL: the CPU
and RAM models). Assertions wait for conditions, never on how long something took."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.nvml import FakeGpu, FakeNvml
from tests.fakes.powercap import deny_reads, server_tree
from wattsup.meter import Meter, Sampler, meter, sources
from wattsup.meter.timeline import PolledEnergyTrack
from wattsup.sensors import nvml

MakeNvml = Callable[..., FakeNvml]


class Recording(PolledEnergyTrack):
    """A 10 W track on the real clock that counts its polls and closes, and can be told to fail."""

    def __init__(self, name: str = "cpu", interval: float = 0.01) -> None:
        super().__init__(name, self._read, interval, "counter", "10 W")
        self.failing = False
        self.closed = 0
        self.polled = threading.Event()

    def _read(self, t: float) -> float:
        self.polled.set()
        if self.failing:
            raise RuntimeError("sensor gone")
        return 10.0 * t

    def close(self) -> None:
        self.closed += 1


def wait_for(cond: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.fixture
def fast_warmup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meter, "WARMUP_S", 0.05)


@pytest.fixture
def bare_machine(no_nvml: FakeNvml, no_rapl: str) -> str:
    """This machine as CI sees it: no NVIDIA driver, no RAPL."""
    return no_rapl


# --------------------------------------------------------------------------- Sampler


def test_sampler_polls_in_the_background_and_covers_windows() -> None:
    tr = Recording()
    s = Sampler([tr])
    s.start()
    try:
        assert s.running
        s.start()  # idempotent
        t = time.monotonic()
        assert s.wait_covered(t, 10.0) == []
        assert tr.covered_until() >= t
        assert wait_for(lambda: len(tr.t) >= 5)
    finally:
        s.stop()
    assert not s.running and tr.closed == 1


def test_sampler_drops_a_track_after_three_failures_in_a_row() -> None:
    bad, good = Recording("gpu:0"), Recording("cpu")
    s = Sampler([bad, good])
    s.start()
    try:
        bad.failing = True
        assert wait_for(lambda: bad.error is not None)
        assert bad.error == "gpu:0: reading failed (RuntimeError: sensor gone)"
        assert good.error is None
        n = len(good.t)
        assert wait_for(lambda: len(good.t) > n + 3)  # the other track goes on
        assert s.wait_covered(time.monotonic(), 10.0) == []  # a dropped track is not waited for
    finally:
        s.stop()


def test_sampler_first_failure_is_final() -> None:
    tr = Recording()
    tr.failing = True
    s = Sampler([tr])
    s.start()
    s.stop()
    assert tr.error is not None and "sensor gone" in tr.error


def test_wait_covered_gives_up_on_a_stopped_sampler() -> None:
    tr = Recording()
    s = Sampler([tr])
    assert s.wait_covered(time.monotonic() + 60.0, 10.0) == [tr]


# --------------------------------------------------------------------------- Meters on real threads


def test_meter_with_its_own_sampler(fast_warmup: None) -> None:
    tr = Recording()
    m = Meter(sources=[tr], sync=None)

    @m
    def work() -> str:
        assert tr.polled.wait(10.0)
        time.sleep(0.02)
        return "done"

    assert work() == "done"
    meas = m.measurement
    assert meas is not None and meas.warnings == []
    cpu = meas.component("cpu")
    assert abs(cpu.energy_j - 10.0 * meas.duration_s) <= cpu.error_bound_j + 1e-9
    assert not m.sampler.running and tr.closed == 1  # a meter's own sampler stops with the window


def test_a_meters_own_sampler_stops_once_its_last_window_is_measured(fast_warmup: None) -> None:
    tr = Recording()
    m = Meter(sources=[tr], sync=None)
    m.start()
    assert tr.polled.wait(10.0)
    first = m.stop_later()
    m.start()  # a window open: the sampler must keep running whatever the first one's result does
    time.sleep(0.02)
    assert first.result().duration_s > 0 and m.sampler.running
    second = m.stop_later()
    assert m.sampler.running  # the second window is still to be measured
    meas = second.result()
    cpu = meas.component("cpu")
    assert abs(cpu.energy_j - 10.0 * meas.duration_s) <= cpu.error_bound_j + 1e-9
    assert not m.sampler.running and tr.closed == 1


def test_failing_track_is_reported_and_the_others_measured(fast_warmup: None) -> None:
    bad, good = Recording("gpu:0"), Recording("cpu")
    bad.failing = True
    with (
        pytest.warns(RuntimeWarning, match="gpu:0: reading failed"),
        Meter(sources=[bad, good], sync=None) as m,
    ):
        time.sleep(0.02)
    meas = m.measurement
    assert meas is not None
    assert [c.name for c in meas.components] == ["cpu"] and meas.energy_by_component_j["cpu"] > 0
    assert meas.warnings == ["gpu:0: reading failed (RuntimeError: sensor gone)"]


def test_models_on_a_machine_without_gpu_or_rapl(bare_machine: str, fast_warmup: None) -> None:
    found = sources.discover()
    with Meter(sources=found.tracks, sync=None) as m:
        sum(i * i for i in range(50_000))
    meas = m.measurement
    assert meas is not None
    assert [(c.name, c.method) for c in meas.components] == [("cpu", "modeled"), ("ram", "modeled")]
    for c in meas.components:
        assert c.energy_j > 0
        assert c.error_bound_j >= 0.5 * c.energy_j  # modelled: ±50% at least
        assert c.detail.startswith("modelled:")
    assert meas.methods == {"modeled"} and not meas.mixes_measured_and_modeled


@pytest.fixture
def fresh_shared(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process-wide timeline, built anew for this test and stopped after it; in a thread of this process,
    where the fakes live (tests/meter/test_process.py meters through the sampler process)."""
    monkeypatch.setenv("WATTSUP_SAMPLER", "thread")
    monkeypatch.setattr(meter, "_shared", None)
    monkeypatch.setattr(meter, "_shared_sources", None)
    yield
    if meter._shared is not None:
        meter._shared.stop()


def test_default_meter_on_a_bare_machine(
    bare_machine: str, fresh_shared: None, recwarn: pytest.WarningsRecorder
) -> None:
    """Meter() meters every source found here through one process-wide timeline. A missing GPU or RAPL
    is nothing the user can fix, so it is no warning (``wattsup doctor`` says why)."""
    with Meter() as m, m.phase("p"):
        time.sleep(0.01)
    meas = m.measurement
    assert meas is not None
    assert {c.name: c.method for c in meas.components} == {"cpu": "modeled", "ram": "modeled"}
    # how busy the rest of this shared host is is not the test's to decide (tests/meter/test_host.py fakes it)
    assert [w for w in meas.warnings if not w.startswith("busy host:")] == []
    assert not [
        w for w in recwarn if issubclass(w.category, RuntimeWarning) and "busy host:" not in str(w.message)
    ]
    shared = meter._shared
    assert shared is not None and shared.running  # keeps running between windows
    with Meter() as m2:
        pass
    assert m2.sampler is shared and shared.running


def test_default_meter_repeats_the_rapl_permission_hint(
    no_nvml: FakeNvml, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_shared: None
) -> None:
    tree = server_tree(tmp_path / "powercap", sockets=1)
    deny_reads(monkeypatch, tree.energy_file("intel-rapl:0"), tree.energy_file("intel-rapl:0:1"))
    monkeypatch.setenv("WATTSUP_POWERCAP_ROOT", str(tree.root))
    for _ in range(2):  # once per measurement
        with pytest.warns(RuntimeWarning, match=r"sudo chmod a\+r"), Meter() as m:
            pass
        meas = m.measurement
        notes = [w for w in meas.warnings if not w.startswith("busy host:")] if meas else []
        assert meas is not None and len(notes) == 1
        assert notes[0].startswith("cpu: RAPL zones exist but cannot be read")
        assert meas.component("cpu").method == "modeled"


# --------------------------------------------------------------------------- a GPU meter used twice


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gpu_meter_can_be_used_twice(fake_nvml: MakeNvml, fast_warmup: None) -> None:
    fake = fake_nvml([FakeGpu(power=200.0)])
    found = sources.discover(cpu=False, ram=False, gpu_indices=[0])
    m = Meter(sources=found.tracks, sync=None)
    for _ in range(2):
        # shorter than a counter step (the fake steps every 0.1 s), right after the restarted track's
        # start: it waits for steps enough to scale the samples on, and is not 0 J
        with m:
            time.sleep(0.03)
        meas = m.measurement
        assert meas is not None and meas.warnings == []
        gpu = meas.component("gpu:0")
        assert gpu.energy_j > 0 and gpu.error_bound_j < 0.5 * gpu.energy_j
    assert fake.initialised == 0 and nvml._library.refs == 0  # released at each stop, exactly once
