"""Deterministic GPU simulations: the fake NVML, wattsup's own GPU track and a manual sampler on a fake clock.

Nothing here sleeps or starts a thread; seconds of GPU history take milliseconds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from unittest import mock

from tests.fakes.manual_sampler import ManualSampler
from tests.fakes.nvml import FakeClock, FakeGpu, FakeNvml
from tests.fakes.timed import TIMED_MODULES
from wattsup.meter import sources
from wattsup.meter.timeline import Estimate, Track
from wattsup.sensors import nvml

T0 = 1000.0
"""Monotonic time at which every simulation starts."""


@dataclass
class Window:
    a: float
    b: float
    estimate: Estimate
    truth_j: float
    estimator: str

    @property
    def error_j(self) -> float:
        return self.estimate.energy_j - self.truth_j


@dataclass
class Sim:
    clock: FakeClock
    fake: FakeNvml
    tracks: list[Track]
    sampler: ManualSampler

    def run_to(self, t: float) -> None:
        self.sampler.advance_to(t)

    def window(self, a: float, b: float, gpu: int = 0) -> Window:
        """Meters [a, b] (absolute monotonic times) as the Meter does: advance to the end, wait until the
        track has observed past it, then estimate. A window wholly in the past is estimated as it stands."""
        assert a < b and (self.clock.now <= a or self.clock.now >= b), (
            f"[{a}, {b}] is under way at {self.clock.now}"
        )
        self.sampler.advance_to(b)
        late = self.sampler.wait_covered(b, 3.0)
        assert late == [], "the track never observed past the window"
        tr = self.tracks[gpu]
        est = tr.energy(a, b)
        estimator = tr.estimator(a, b) or tr.method
        return Window(a, b, est, self.fake.true_joules(gpu, a, b), estimator)


@contextmanager
def gpu_simulation(*gpus: FakeGpu, stamp_offset: float | None = None, guarded: bool = False) -> Iterator[Sim]:
    """Simulated GPUs from ``T0`` on, each metered by the track :func:`sources.gpu_track` builds for it
    (``guarded``: :func:`sources.guarded_gpu_track`, as the meter uses it).
    ``stamp_offset``: the driver stamps power samples on monotonic + this instead of the wall clock."""
    clock = FakeClock(T0)
    with ExitStack() as stack:
        for mod in TIMED_MODULES:
            stack.enter_context(mock.patch.object(mod, "time", clock))
        stack.enter_context(mock.patch.object(nvml._library, "refs", 0))
        stack.enter_context(mock.patch.object(nvml, "_module", None))
        fake = stack.enter_context(FakeNvml(list(gpus), clock))
        fake.stamp_offset = stamp_offset
        tracks = []
        for i in range(len(gpus)):
            build = sources.guarded_gpu_track if guarded else sources.gpu_track
            tracks.append(build(nvml.NvmlGpu(nvml.acquire(), i)))
        sampler = ManualSampler(tracks, clock)
        sampler.start()
        try:
            yield Sim(clock, fake, tracks, sampler)
        finally:
            sampler.stop()
