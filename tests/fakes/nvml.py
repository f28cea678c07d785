"""A fake NVML on top of the real nvidia-ml-py, and a clock the tests move by hand.

Every ``pynvml`` function wattsup calls is replaced with ``mock.patch.object(pynvml, name, autospec=True,
side_effect=...)``: a call that the installed binding's signature does not accept raises ``TypeError``, and
a function the binding no longer has makes the patch itself fail (``AttributeError``). So drift of the
nvidia-ml-py API breaks these tests instead of hiding behind the fake. Errors are the binding's own
classes (``pynvml.NVMLError_NotFound`` ...), samples its own ctypes structures (``c_nvmlSample_t``).

Simulated GPUs draw power as a function of time (:class:`Power`). As on Hopper:

* the total-energy counter steps every 100 ms, in whole mJ since the driver loaded; a read costs 4 ms
  (on the fake clock);
* the driver keeps a power sample every 20 ms for a few seconds, stamped with ``CLOCK_REALTIME`` µs;
  ``nvmlDeviceGetSamples`` returns those newer than the given stamp and raises ``NVMLError_NotFound``
  when there are none;
* ``nvmlDeviceGetPowerUsage`` is the mean over the last second, in mW.

Like the real library, the fake counts ``nvmlInit``/``nvmlShutdown`` and answers device calls only while
initialised (``NVMLError_Uninitialized`` otherwise).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import pairwise
from typing import Any
from unittest import mock

import pynvml

NVML_FUNCTIONS = (
    "nvmlInit",
    "nvmlShutdown",
    "nvmlDeviceGetCount",
    "nvmlDeviceGetHandleByIndex",
    "nvmlDeviceGetName",
    "nvmlDeviceGetUUID",
    "nvmlDeviceGetEnforcedPowerLimit",
    "nvmlDeviceGetPowerUsage",
    "nvmlDeviceGetTotalEnergyConsumption",
    "nvmlDeviceGetSamples",
)
"""The pynvml functions wattsup calls (and the fake replaces)."""


class FakeClock:
    """Stands in for the ``time`` module: monotonic, wall-clock and boot-time clocks that move only when
    told to (``advance``/``sleep``). The wall clock is ``monotonic + realtime_offset``, the boot-time clock
    ``monotonic + boottime_offset`` (a machine that was suspended for a while)."""

    CLOCK_REALTIME = time.CLOCK_REALTIME
    CLOCK_MONOTONIC = time.CLOCK_MONOTONIC
    CLOCK_BOOTTIME = getattr(time, "CLOCK_BOOTTIME", 7)

    def __init__(self, start: float = 1000.0, realtime_offset: float = 1.75e9, boottime_offset: float = 60.0):
        self.now = start
        self.realtime_offset = realtime_offset
        self.boottime_offset = boottime_offset

    def monotonic(self) -> float:
        return self.now

    perf_counter = monotonic

    def time(self) -> float:
        return self.now + self.realtime_offset

    def clock_gettime(self, clk: int) -> float:
        if clk == self.CLOCK_REALTIME:
            return self.time()
        if clk == self.CLOCK_BOOTTIME:
            return self.now + self.boottime_offset
        return self.now

    def advance(self, dt: float) -> None:
        if dt < 0:
            raise ValueError("the fake clock only moves forward")
        self.now += dt

    def advance_to(self, t: float) -> None:
        self.now = max(self.now, t)

    def sleep(self, s: float) -> None:
        self.advance(max(s, 0.0))


class Power:
    """Power (W) of a simulated device as a function of monotonic time, with its exact integral.

    ``Power.steps([(t0, w0), (t1, w1), ...])`` is piecewise constant (``w0`` also before ``t0``);
    ``Power(fn)`` any function, integrated numerically (Simpson, 1 ms steps)."""

    def __init__(self, fn: Callable[[float], float] | None = None) -> None:
        self._fn = fn
        self._steps: list[tuple[float, float]] = []
        self._from: dict[float, tuple[float, float]] = {}  # origin -> (t, joules since origin): to go on from

    @classmethod
    def steady(cls, watts: float) -> Power:
        return cls.steps([(0.0, watts)])

    @classmethod
    def steps(cls, points: Sequence[tuple[float, float]]) -> Power:
        p = cls()
        p._steps = sorted(points)
        return p

    @classmethod
    def of(cls, profile: Profile) -> Power:
        if isinstance(profile, Power):
            return profile
        if callable(profile):
            return cls(profile)
        return cls.steady(float(profile))

    def watts(self, t: float) -> float:
        if self._fn is not None:
            return self._fn(t)
        w = self._steps[0][1]
        for t_k, w_k in self._steps:
            if t_k <= t:
                w = w_k
        return w

    def _simpson(self, t0: float, t1: float) -> float:
        assert self._fn is not None
        if t1 <= t0:
            return 0.0
        n = max(2, 2 * math.ceil((t1 - t0) / 2e-3))
        h = (t1 - t0) / n
        s = self._fn(t0) + self._fn(t1)
        s += sum((4 if k % 2 else 2) * self._fn(t0 + k * h) for k in range(1, n))
        return s * h / 3

    def joules(self, t0: float, t1: float) -> float:
        """Energy drawn over [t0, t1] (negative if t1 < t0)."""
        if t1 < t0:
            return -self.joules(t1, t0)
        if self._fn is not None:
            # the fake asks for the energy since one origin at ever later times: go on from the last one
            t_last, e_last = self._from.get(t0, (t0, 0.0))
            if t_last > t1:
                t_last, e_last = t0, 0.0
            e = e_last + self._simpson(t_last, t1)
            self._from[t0] = (t1, e)
            return e
        knots = [t0] + [t for t, _ in self._steps if t0 < t < t1] + [t1]
        return sum(self.watts(a) * (b - a) for a, b in pairwise(knots))


Profile = float | Callable[[float], float] | Power
"""Watts: a constant, a function of monotonic time, or a :class:`Power`."""


@dataclass(frozen=True)
class FakeHandle:
    """What ``nvmlDeviceGetHandleByIndex`` returns (the real one is a ctypes pointer)."""

    index: int


@dataclass
class FakeGpu:
    """One simulated GPU. ``counter``/``samples``: whether the driver offers the energy counter and the
    power-sample buffer (``NVMLError_NotSupported`` otherwise)."""

    name: str = "NVIDIA H100 80GB HBM3"
    uuid: str = "GPU-3c1e2b5a-0000-4a8e-9d51-000000000000"
    power: Profile = 300.0
    counter: bool = True
    samples: bool = True
    power_limit_mw: int | None = 700_000
    counter_period_s: float = 0.1
    counter_phase_s: float = 0.037
    counter_read_s: float = 0.004
    counter_jitter_s: float = 0.0
    """Each counter step comes up to this much before or after its place on the period's grid
    (deterministic, pseudo-random per step; the H200 under load: steps 60 to 140 ms apart)."""
    sample_period_s: float = 0.02
    sample_phase_s: float = 0.011
    buffer_s: float = 4.0
    sample_noise_w: float = 0.0
    """Amplitude of the (deterministic, pseudo-random) noise on each power sample; the counter has none."""
    energy_at_start_mj: int = 987_654_321
    reset_at: float | None = None
    """Monotonic time of a driver reload: the counter restarts from zero there."""
    handle_error: type[pynvml.NVMLError] | None = None
    """Raised by ``nvmlDeviceGetHandleByIndex`` for this GPU (a lost GPU, no permission)."""
    stuck_at: float | None = None
    """Monotonic time from which the energy counter stops moving (the GPU still draws power)."""
    lost_at: float | None = None
    """Monotonic time from which every call about this GPU raises ``NVMLError_GpuIsLost`` (off the bus)."""
    read_error: type[pynvml.NVMLError] | None = None
    """Raised by the energy and power reads once set (a GPU lost mid-run)."""

    def __post_init__(self) -> None:
        self.power = Power.of(self.power)  # one Power per GPU: it caches its running integral


def _raise(cls: type[pynvml.NVMLError]) -> None:
    raise cls()


class FakeNvml:
    """A set of simulated GPUs behind the real pynvml functions (patched with autospec).

    ``clock``: a :class:`FakeClock` (deterministic simulations; counter reads advance it), or ``None`` to
    follow the real ``time.monotonic``/``time.time``. ``init_error``: what ``nvmlInit`` raises (a machine
    without a driver: ``pynvml.NVMLError_LibraryNotFound``)."""

    def __init__(
        self,
        gpus: Sequence[FakeGpu] = (),
        clock: FakeClock | None = None,
        init_error: type[pynvml.NVMLError] | None = None,
    ) -> None:
        self.gpus = list(gpus)
        self.clock = clock
        self.init_error = init_error
        self.initialised = 0
        self.t_start = self.now()
        self._realtime_offset = time.time() - time.monotonic()
        self.stamp_offset: float | None = None
        """Set to stamp samples on a clock of this offset from monotonic instead of the wall clock."""
        self.mocks: dict[str, Any] = {}
        self._stack: ExitStack | None = None

    # ------------------------------------------------------------ lifecycle
    def install(self) -> FakeNvml:
        stack = ExitStack()
        for name in NVML_FUNCTIONS:
            impl = getattr(self, "_" + name)
            self.mocks[name] = stack.enter_context(
                mock.patch.object(pynvml, name, autospec=True, side_effect=impl)
            )
        self._stack = stack
        return self

    def uninstall(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def __enter__(self) -> FakeNvml:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def calls(self, name: str) -> int:
        return int(self.mocks[name].call_count)

    # ------------------------------------------------------------ simulation
    def now(self) -> float:
        return self.clock.monotonic() if self.clock is not None else time.monotonic()

    def true_joules(self, index: int, t0: float, t1: float) -> float:
        """What GPU ``index`` really drew over [t0, t1] (monotonic seconds)."""
        return Power.of(self.gpus[index].power).joules(t0, t1)

    def counter_mj(self, index: int, t: float) -> int:
        g = self.gpus[index]
        if g.stuck_at is not None:
            t = min(t, g.stuck_at)
        tick = self.last_tick(g, t)
        power = Power.of(g.power)
        if g.reset_at is not None and tick >= g.reset_at:
            return math.floor(1000 * power.joules(g.reset_at, tick))
        return g.energy_at_start_mj + math.floor(1000 * power.joules(self.t_start, tick))

    def last_tick(self, g: FakeGpu, t: float) -> float:
        """When the counter last stepped at or before ``t``."""
        base = self.t_start + g.counter_phase_s
        k = math.floor((t - base) / g.counter_period_s)
        if not g.counter_jitter_s:
            return base + k * g.counter_period_s

        def at(j: int) -> float:  # step j's time: its grid place, moved by a fixed pseudo-random amount
            u = ((j * 2654435761) % 2**32) / 2**32
            return base + j * g.counter_period_s + (2 * u - 1) * g.counter_jitter_s

        return max(at(j) for j in (k - 1, k, k + 1) if at(j) <= t)

    def sample_times(self, index: int, t: float) -> list[float]:
        """Times of the power samples the driver holds at ``t``, oldest first."""
        g = self.gpus[index]
        base = self.t_start + g.sample_phase_s
        k_hi = math.floor((t - base) / g.sample_period_s)
        k_lo = math.floor((t - g.buffer_s - base) / g.sample_period_s) + 1
        return [base + k * g.sample_period_s for k in range(k_lo, k_hi + 1)]

    @property
    def realtime_offset(self) -> float:
        """Wall clock minus monotonic (the fake clock's, which a test may step, or the real one's)."""
        return self.clock.realtime_offset if self.clock is not None else self._realtime_offset

    def stamp_us(self, t: float) -> int:
        """The driver's stamp of a sample taken at monotonic ``t``: CLOCK_REALTIME µs."""
        off = self.stamp_offset if self.stamp_offset is not None else self.realtime_offset
        return round((t + off) * 1e6)

    # ------------------------------------------------------------ pynvml side effects
    def _check(self) -> None:
        if self.initialised <= 0:
            _raise(pynvml.NVMLError_Uninitialized)

    def _gpu(self, handle: Any) -> FakeGpu:
        self._check()
        if not isinstance(handle, FakeHandle) or not 0 <= handle.index < len(self.gpus):
            _raise(pynvml.NVMLError_InvalidArgument)
        g = self.gpus[handle.index]
        if g.lost_at is not None and self.now() >= g.lost_at:
            _raise(pynvml.NVMLError_GpuIsLost)
        return g

    def _nvmlInit(self) -> None:
        if self.init_error is not None:
            _raise(self.init_error)
        self.initialised += 1

    def _nvmlShutdown(self) -> None:
        self._check()
        self.initialised -= 1

    def _nvmlDeviceGetCount(self) -> int:
        self._check()
        return len(self.gpus)

    def _nvmlDeviceGetHandleByIndex(self, index: int) -> FakeHandle:
        self._check()
        if not 0 <= index < len(self.gpus):
            _raise(pynvml.NVMLError_InvalidArgument)
        err = self.gpus[index].handle_error
        if err is not None:
            _raise(err)
        return FakeHandle(index)

    def _nvmlDeviceGetName(self, handle: Any) -> str:
        return self._gpu(handle).name

    def _nvmlDeviceGetUUID(self, handle: Any) -> str:
        return self._gpu(handle).uuid

    def _nvmlDeviceGetEnforcedPowerLimit(self, handle: Any) -> int:
        g = self._gpu(handle)
        if g.power_limit_mw is None:
            _raise(pynvml.NVMLError_NotSupported)
        return int(g.power_limit_mw)  # type: ignore[arg-type]

    def _nvmlDeviceGetPowerUsage(self, handle: Any) -> int:
        g = self._gpu(handle)
        if g.read_error is not None:
            _raise(g.read_error)
        t = self.now()
        return round(1000 * Power.of(g.power).joules(t - 1.0, t))

    def _nvmlDeviceGetTotalEnergyConsumption(self, handle: Any) -> int:
        g = self._gpu(handle)
        if g.read_error is not None:
            _raise(g.read_error)
        if not g.counter:
            _raise(pynvml.NVMLError_NotSupported)
        if self.clock is not None:
            self.clock.advance(g.counter_read_s / 2)
        value = self.counter_mj(handle.index, self.now())
        if self.clock is not None:
            self.clock.advance(g.counter_read_s / 2)
        return value

    def _nvmlDeviceGetSamples(self, device: Any, sampling_type: int, timeStamp: int) -> tuple[int, list[Any]]:
        g = self._gpu(device)
        if not g.samples:
            _raise(pynvml.NVMLError_NotSupported)
        if sampling_type != pynvml.NVML_TOTAL_POWER_SAMPLES:
            _raise(pynvml.NVMLError_InvalidArgument)
        power = Power.of(g.power)
        out = []
        for t in self.sample_times(device.index, self.now()):
            stamp = self.stamp_us(t)
            if stamp > timeStamp:
                value = pynvml.c_nvmlValue_t()
                noise = g.sample_noise_w * (2 * random.Random(stamp).random() - 1)
                value.uiVal = max(0, round(1000 * (power.watts(t) + noise)))
                out.append(pynvml.c_nvmlSample_t(stamp, value))
        if not out:
            _raise(pynvml.NVMLError_NotFound)
        return pynvml.NVML_VALUE_TYPE_UNSIGNED_INT, out


def fake_nvml_factory() -> tuple[Callable[..., FakeNvml], Callable[[], None]]:
    """A ``make(...)`` that installs a :class:`FakeNvml`, and the cleanup that uninstalls them all."""
    made: list[FakeNvml] = []

    def make(
        gpus: Sequence[FakeGpu] = (),
        clock: FakeClock | None = None,
        init_error: type[pynvml.NVMLError] | None = None,
    ) -> FakeNvml:
        fake = FakeNvml(gpus, clock, init_error).install()
        made.append(fake)
        return fake

    def cleanup() -> None:
        for f in reversed(made):
            f.uninstall()

    return make, cleanup
