"""Phase edges as device markers (``Meter(phase_edges="events")``), on a simulated CUDA device whose
queue runs on the fake clock: markers are reached when the work queued before them ends, synchronising
waits for the queue, and the device's timer may drift against the host's clock."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

import pytest
from fake_nvml import FakeClock
from manual_sampler import FunctionTrack, ManualSampler

from wattsup.bench.protocol import Span, run_batches
from wattsup.bench.tasks.base import BatchResult
from wattsup.errors import WattsupError
from wattsup.meter import Meter, edges
from wattsup.meter.edges import Mark, resolve_marks
from wattsup.meter.timeline import PolledEnergyTrack

T0 = 1000.0


class FakeCudaDevice:
    """One CUDA stream on the fake clock. ``launch(s)`` queues s seconds of work and returns at once;
    an event is reached when the work queued before it ends; ``synchronize`` advances the host until the
    queue is empty. The device's timer runs ``1 + drift`` times as fast as the host's clock."""

    def __init__(self, clock: FakeClock, sampler: ManualSampler, drift: float = 0.0) -> None:
        self.clock = clock
        self.sampler = sampler
        self.drift = drift
        self.busy_until = clock.now
        self.syncs = 0
        self.events = 0
        device = self

        class Event:
            def __init__(self, enable_timing: bool = False) -> None:
                assert enable_timing
                self.reached: float | None = None

            def record(self) -> None:
                device.events += 1
                self.reached = max(device.busy_until, device.clock.now)

            def elapsed_time(self, other: Event) -> float:  # milliseconds, on the device's timer
                assert self.reached is not None and other.reached is not None
                assert device.clock.now >= max(self.reached, other.reached), "event not reached yet"
                return (other.reached - self.reached) * (1 + device.drift) * 1e3

        self.module = types.SimpleNamespace(
            cuda=types.SimpleNamespace(
                is_available=lambda: True,
                is_initialized=lambda: True,
                synchronize=self.synchronize,
                Event=Event,
            )
        )

    def launch(self, seconds: float) -> None:
        self.busy_until = max(self.busy_until, self.clock.now) + seconds

    def synchronize(self) -> None:
        self.syncs += 1
        if self.busy_until > self.clock.now:
            self.sampler.advance_to(self.busy_until)


@pytest.fixture
def gpu(fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> tuple[ManualSampler, FakeCudaDevice]:
    """A sampler over a 50 W track, and a simulated CUDA device standing in for torch."""
    fn = FunctionTrack(lambda t: 50.0 * (t - T0))
    track = PolledEnergyTrack("gpu:0", fn, 0.05, "counter", "50 W")  # type: ignore[arg-type]
    s = ManualSampler([track], fake_clock)
    dev = FakeCudaDevice(fake_clock, s)
    monkeypatch.setitem(sys.modules, "torch", dev.module)
    return s, dev


def forward_then_post(m: Meter, s: ManualSampler, dev: FakeCudaDevice) -> None:
    """A 0.2 s kernel whose launch takes the host 1 ms, then 10 ms of host work."""
    with m.phase("forward"):
        dev.launch(0.2)
        s.advance(0.001)
    with m.phase("post"):
        s.advance(0.01)


def test_event_edges_attribute_device_work_to_its_phase_without_syncing(
    gpu: tuple[ManualSampler, FakeCudaDevice],
) -> None:
    s, dev = gpu
    m = Meter(sources=s, sync=dev.synchronize, phase_edges="events")
    with m:
        forward_then_post(m, s, dev)
    meas = m.measurement
    assert meas is not None
    assert dev.syncs == 2  # the window's start and stop only
    assert dev.events == 5  # the anchor and four phase edges
    fwd, post = meas.phase("forward"), meas.phase("post")
    assert fwd.duration_s == pytest.approx(0.2)  # the kernel's time, though the host left after 1 ms
    assert fwd.energy_j["gpu:0"] == pytest.approx(10.0)
    # the host's 10 ms ran while the kernel did: nothing of the window is left for "post"
    assert post.duration_s == pytest.approx(0.0, abs=1e-9)
    assert meas.duration_s == pytest.approx(0.2)


def test_sync_edges_give_the_same_forward_phase_but_block_the_host(
    gpu: tuple[ManualSampler, FakeCudaDevice],
) -> None:
    s, dev = gpu
    m = Meter(sources=s, sync=dev.synchronize, phase_edges="sync")
    with m:
        forward_then_post(m, s, dev)
    meas = m.measurement
    assert meas is not None
    assert dev.syncs == 2 + 4 and dev.events == 0
    assert meas.phase("forward").duration_s == pytest.approx(0.2)
    assert meas.phase("post").duration_s == pytest.approx(0.01)  # the host waited, then did its work
    assert meas.duration_s == pytest.approx(0.21)


def test_event_edges_on_an_idle_device_are_the_host_clock(gpu: tuple[ManualSampler, FakeCudaDevice]) -> None:
    s, dev = gpu
    m = Meter(sources=s, sync=dev.synchronize, phase_edges="events")
    with m:
        for _ in range(3):
            with m.phase("host"):
                s.advance(0.05)
            s.advance(0.02)
    meas = m.measurement
    assert meas is not None
    assert meas.phase("host").duration_s == pytest.approx(0.15)
    assert meas.duration_s == pytest.approx(0.21)


def test_marks_time_a_batch_including_its_device_work(gpu: tuple[ManualSampler, FakeCudaDevice]) -> None:
    s, dev = gpu
    m = Meter(sources=s, sync=dev.synchronize, phase_edges="events")
    with m:
        a = m.mark()
        dev.launch(0.3)
        s.advance(0.002)
        b = m.mark()
        assert b.time == pytest.approx(b.host)  # not final before the window stops
    assert b.time - a.time == pytest.approx(0.3)


def test_anchors_are_renewed_so_clock_drift_does_not_add_up(
    fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fn = FunctionTrack(lambda t: 50.0 * (t - T0))
    s = ManualSampler([PolledEnergyTrack("gpu:0", fn, 0.05, "counter", "50 W")], fake_clock)  # type: ignore[arg-type]
    dev = FakeCudaDevice(fake_clock, s, drift=1e-3)  # a timer 0.1% fast: 30 ms off after 30 s
    monkeypatch.setitem(sys.modules, "torch", dev.module)
    m = Meter(sources=s, sync=dev.synchronize, phase_edges="events")
    idle: list[Mark] = []
    with m:
        for _ in range(60):
            with m.phase("kernel"):
                dev.launch(0.5)
                s.advance(0.001)
            with m.phase("post"):
                dev.synchronize()  # reading the result waits for the kernel, as .tolist() does
                s.advance(0.001)
            idle.append(m.mark())  # the device is idle: this edge is the host's time
    meas = m.measurement
    assert meas is not None
    # each edge is put on the host clock from an anchor at most ~5 s old: off by at most 5 s × 0.1%
    # (without renewal the last ones would be ~30 ms off)
    assert max(x.time - x.host for x in idle) < 0.0055
    assert dev.syncs - 60 - 2 in range(5, 8)  # the anchors: one per ~5 s of a 30 s window
    assert meas.phase("kernel").duration_s == pytest.approx(30.0, rel=2e-3)


def test_resolve_marks_keeps_edges_in_order_and_never_before_the_host() -> None:
    marks = [
        Mark(host=1.0, time=1.0, marker="a"),
        Mark(host=1.1, time=1.1),
        Mark(host=1.2, time=1.2, marker="b"),
    ]
    device = {"a": 1.5, "b": 1.4}  # "b" put on the host clock through another anchor, slightly earlier
    resolve_marks(marks, lambda m: device[str(m.marker)])
    assert [m.time for m in marks] == [1.5, 1.5, 1.5]
    marks = [Mark(host=2.0, time=2.0, marker="a")]
    resolve_marks(marks, lambda m: 1.9)  # reached before the host read its clock: the host's time
    assert marks[0].time == 2.0


def test_event_edges_fall_back_to_syncs_without_cuda(
    fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fn = FunctionTrack(lambda t: 10.0 * (t - T0))
    s = ManualSampler([PolledEnergyTrack("cpu", fn, 0.05, "counter", "10 W")], fake_clock)  # type: ignore[arg-type]
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    synced: list[float] = []
    m = Meter(sources=s, sync=lambda: synced.append(fake_clock.now), phase_edges="events")
    with m, m.phase("p"):
        s.advance(0.1)
    assert len(synced) == 4  # no device clock: every edge syncs, as phase_edges="sync" does
    assert m.measurement is not None and m.measurement.phase("p").duration_s == pytest.approx(0.1)


def test_bad_phase_edges_and_marks_outside_a_window_are_refused() -> None:
    with pytest.raises(WattsupError, match="phase_edges must be"):
        Meter(sources=[], sync=None, phase_edges="fast")  # type: ignore[arg-type]
    m = Meter(sources=[], sync=None)
    with pytest.raises(WattsupError, match="start the meter"):
        m.mark()


def test_run_batches_spans_are_the_batches_latencies(gpu: tuple[ManualSampler, FakeCudaDevice]) -> None:
    s, dev = gpu

    class Task:
        def run(self, batch: list[dict[str, float]], phase: Callable[[str], object]) -> BatchResult:
            with phase("forward"):  # type: ignore[attr-defined]
                dev.launch(batch[0]["kernel_s"])
                s.advance(0.001)
            return BatchResult(units=1, excluded_s=0.0)

    m = Meter(sources=s, sync=dev.synchronize, phase_edges="events")
    with m:
        units, spans = run_batches(Task(), [[{"kernel_s": 0.1}], [{"kernel_s": 0.2}]], m.phase, m.mark)  # type: ignore[arg-type]
    assert units == 2 and all(isinstance(x, Span) for x in spans)
    # the second batch's start waits for nothing (its marker follows the first kernel in the queue)
    assert [x.latency_s for x in spans] == pytest.approx([0.1, 0.2])
    assert edges.ANCHOR_EVERY_S > 0
