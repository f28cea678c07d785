"""Builds the tracks for this machine from the sensors, and says why a missing source is missing.

GPU: every visible NVIDIA GPU, the counter (shaped by power samples where the driver keeps them), else
integrated power readings (``sampled``). CPU: RAPL package zones (``counter``), else the CPU model
(``modeled``). Memory: RAPL DRAM zones where present, else the RAM model (``modeled``).

Every measured source is guarded (``guard.py``): a GPU counter by the GPU's power readings, a RAPL package
by the CPU model, a DRAM zone by the RAM model, so a sensor that stalls or is lost mid-window keeps what it
measured and the rest is filled and labelled partial.

CPU scope: with ``pid`` the modelled CPU charges that process tree's own CPU time (the default of the
meter), and a whole-package RAPL counter is apportioned to it when other processes keep the host busy;
without, machine-wide utilisation. The ``host`` track records how busy the rest of the host was.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

import psutil

from wattsup.errors import SensorUnavailable
from wattsup.meter.guard import GuardedTrack
from wattsup.meter.timeline import CounterTrack, HostLoadTrack, PolledEnergyTrack, PowerIntegrator, Track
from wattsup.sensors import models, nvml, rapl
from wattsup.sensors.base import CounterAccumulator, SensorStatus
from wattsup.sensors.device import EnergyDevice
from wattsup.sensors.devices import discover_devices

RAPL_INTERVAL_S = 0.05
MODEL_INTERVAL_S = 0.25
SAMPLED_INTERVAL_S = 0.05
DEFAULT_GPU_MAX_W = 1500.0


GPU_POWER_INTERVAL_S = 0.1
HOST_INTERVAL_S = 1.0


@dataclass
class Sources:
    tracks: list[Track] = field(default_factory=list)
    statuses: list[SensorStatus] = field(default_factory=list)
    host: HostLoadTrack | None = None
    """Host and process-tree CPU time, where a process tree is metered (``pid``)."""


def _gpu_tracks(out: Sources, indices: list[int] | None) -> None:
    try:
        nv = nvml.acquire()
    except SensorUnavailable as e:
        out.statuses.append(SensorStatus("gpu", "nvml", False, reason=str(e)))
        return
    try:
        visible = nvml.visible_indices(nv) if indices is None else indices
        if not visible:
            out.statuses.append(
                SensorStatus("gpu", "nvml", False, reason="no GPU is visible (CUDA_VISIBLE_DEVICES)")
            )
        for idx in visible:
            try:
                gpu = nvml.NvmlGpu(nv, idx)
                track = guarded_gpu_track(gpu)
            except nv.NVMLError as e:
                out.statuses.append(SensorStatus(f"gpu:{idx}", "nvml", False, reason=f"NVML error: {e}"))
                continue
            out.tracks.append(track)
            out.statuses.append(
                SensorStatus(
                    f"gpu:{idx}",
                    "nvml",
                    True,
                    out.tracks[-1].method,
                    out.tracks[-1].detail,
                    extra={
                        "name": gpu.name,
                        "uuid": gpu.uuid,
                        "counter": str(gpu.has_counter),
                        "power_samples": str(gpu.has_samples),
                    },
                )
            )
            nvml.acquire()  # each track holds a reference, released by its close()
    finally:
        nvml.release()


class _HoldsNvml(Track):
    """Holds one NVML reference while sampled: taken again by start() after a close(), released once."""

    _held = True

    def start(self, now: float) -> float:
        if not self._held:
            nvml.acquire()
            self._held = True
        return super().start(now)

    def close(self) -> None:
        if self._held:
            self._held = False
            nvml.release()


class _NvmlCounterTrack(_HoldsNvml, CounterTrack):
    pass


class _NvmlSampledTrack(_HoldsNvml, PolledEnergyTrack):
    pass


def guarded_gpu_track(gpu: nvml.NvmlGpu) -> Track:
    """The best track of one GPU, guarded: a counter track falls back on the power readings."""
    primary = gpu_track(gpu)
    if not isinstance(primary, CounterTrack):
        return GuardedTrack(primary, None)
    fallback = PolledEnergyTrack(
        primary.name,
        PowerIntegrator(lambda: gpu.power_mw() / 1000.0),
        GPU_POWER_INTERVAL_S,
        "sampled",
        f"{gpu.name}: NVML power readings (1 s averages on Ampere and newer), ±10%",
        relative_bound=0.10,
    )
    # steps are bracketed a second or more apart (BRACKET_EVERY, and wider where reads are costly; the guard
    # stretches this limit with them): a stall is a counter that has not moved for several of those
    return GuardedTrack(primary, fallback, stuck_after_s=1.0)


def _clock_pair() -> tuple[float, float]:
    """(monotonic, realtime) read as close together as this process manages: the tightest of three pairs,
    so a thread switch between the two reads cannot shift the driver's samples in time."""
    best: tuple[float, float, float] | None = None
    for _ in range(3):
        m0 = time.monotonic()
        r = time.time()
        m1 = time.monotonic()
        if best is None or m1 - m0 < best[0]:
            best = (m1 - m0, (m0 + m1) / 2, r)
    assert best is not None
    return best[1], best[2]


def gpu_track(gpu: nvml.NvmlGpu) -> Track:
    """The best track one GPU allows."""
    max_w = (gpu.power_limit_w or DEFAULT_GPU_MAX_W) * 1.5
    name = f"gpu:{gpu.index}"
    if gpu.has_counter:
        acc = CounterAccumulator(scale_j=1e-3, wrap_range_raw=None, max_power_w=max_w)

        def read_counter() -> float:
            return acc.update(float(gpu.energy_mj()), time.monotonic())

        read_samples = None
        offsets: deque[float] = deque(maxlen=50)  # the samples' clock offsets of the last reads
        if gpu.has_samples:
            state: dict[str, float | None] = {"last": None, "offset": None, "fixed": None}

            def read_samples_fn() -> list[tuple[float, float]]:
                # The driver's clock may step (CLOCK_REALTIME: NTP, date, VM resume): the offset is
                # worked out again at every read, and "since" is the last sample's monotonic time on it.
                last, prev_off = state["last"], state["offset"]
                since = 0 if last is None or prev_off is None else max(int((last - prev_off) * 1e6), 0)
                raw = gpu.power_samples(since)
                if not raw and since:
                    raw = gpu.power_samples(0)  # the clock went back: take the buffer again
                if not raw:
                    return []
                # the clocks are read after the samples, together: a delay between the driver call and
                # the clock reads (a busy host, the GIL) must not move the samples on the time axis
                now, real = _clock_pair()
                off = nvml.sample_clock_offset_s(raw[-1][0], now, real)
                if off is None:  # unknown clock: the newest sample was taken about now (fixed once)
                    fixed = state["fixed"]
                    if fixed is None:
                        fixed = state["fixed"] = now - raw[-1][0] / 1e6
                    off = fixed
                state["offset"] = off
                offsets.append(off)
                out = [(ts / 1e6 + off, w) for ts, w in raw]
                out = [(t, w) for t, w in out if t <= now + 0.005 and (last is None or t > last)]
                if out:
                    state["last"] = out[-1][0]
                return out

            read_samples = read_samples_fn
        detail = f"{gpu.name}: NVML total-energy counter" + (
            ", shaped by 20 ms power samples" if read_samples else ""
        )

        def jitter() -> float:
            return (max(offsets) - min(offsets)) if len(offsets) > 1 else 0.0

        return _NvmlCounterTrack(
            name,
            read_counter,
            read_samples,
            detail,
            max_power_w=max_w,
            resets=lambda: acc.resets,
            clock_jitter=jitter,
        )
    integ = PowerIntegrator(lambda: gpu.power_mw() / 1000.0)
    return _NvmlSampledTrack(
        name,
        integ,
        SAMPLED_INTERVAL_S,
        "sampled",
        f"{gpu.name}: NVML power readings integrated every {SAMPLED_INTERVAL_S * 1000:.0f} ms "
        "(no energy counter)",
        relative_bound=0.05,
    )


def _rapl_tracks(out: Sources, root: str | None, pid: int | None, exclude: frozenset[int]) -> bool:
    """Adds RAPL tracks; returns whether a DRAM zone was found (False also when RAPL is unusable)."""
    try:
        zones = rapl.discover(root)
    except SensorUnavailable as e:
        out.statuses.append(SensorStatus("cpu", "rapl", False, reason=str(e), actionable="chmod" in str(e)))
        return False
    has_dram = False
    for comp in ("cpu", "dram"):
        group = [z for z in zones if z.component == comp]
        if not group:
            continue
        has_dram |= comp == "dram"
        accs = [CounterAccumulator(1e-6, z.max_range_uj, max_power_w=2000.0) for z in group]

        def read(
            t: float, group: list[rapl.RaplZone] = group, accs: list[CounterAccumulator] = accs
        ) -> float:
            return sum(a.update(float(z.read_uj()), t) for z, a in zip(group, accs, strict=True))

        detail = f"RAPL {comp} counter, {len(group)} zone(s): " + ", ".join(z.path.name for z in group)
        primary = PolledEnergyTrack(comp, read, RAPL_INTERVAL_S, "counter", detail)
        primary.apportion = comp == "cpu" and pid is not None
        fallback = _cpu_model_track(pid, exclude) if comp == "cpu" else _ram_model_track()
        out.tracks.append(GuardedTrack(primary, fallback))
        out.statuses.append(SensorStatus(comp, "rapl", True, "counter", detail))
    return has_dram


def _cpu_model_track(pid: int | None, exclude: frozenset[int] = frozenset()) -> PolledEnergyTrack:
    spec = models.cpu_spec(tdp_w=models.cpu_tdp_override())
    util = models.CpuUtilisation(pid, exclude)

    def power() -> float:
        return spec.tdp_w * models.load_fraction(util.sample())

    scope = "this process tree's CPU time" if pid is not None else "machine-wide utilisation"
    detail = f"modelled: {spec.model}, {spec.source}; Teads load curve, {scope}"
    track = PolledEnergyTrack(
        "cpu",
        PowerIntegrator(power),
        MODEL_INTERVAL_S,
        "modeled",
        detail,
        relative_bound=models.MODELED_RELATIVE_BOUND,
    )
    if pid is not None:  # the idle power: shared with the host's other processes when they keep it busy
        track.static_w = spec.tdp_w * models.load_fraction(0.0)
    return track


def _ram_model_track(shared: bool = False) -> PolledEnergyTrack:
    gb = models.ram_installed_gb()
    w = models.ram_power_w(gb)
    detail = f"modelled: {gb:.1f} GB installed × {models.RAM_W_PER_GB} W/GB = {w:.1f} W"
    track = PolledEnergyTrack(
        "ram",
        lambda t: w * t,
        MODEL_INTERVAL_S,
        "modeled",
        detail,
        relative_bound=models.MODELED_RELATIVE_BOUND,
    )
    if shared:  # all of it is drawn whatever runs: shared with the host's other processes when busy
        track.static_w = w
    return track


def host_track(pid: int, exclude: frozenset[int] = frozenset()) -> HostLoadTrack:
    tree = models.ProcessTree.shared(pid, exclude)

    def read() -> tuple[float, float]:
        return models.host_busy_cpu_s(), tree.cpu_s()

    return HostLoadTrack(read, psutil.cpu_count() or 1, HOST_INTERVAL_S)


OTHER_SOURCES = ("amdsmi", "intel-hwmon", "ioreport", "ina3221", "neuron-sysfs")
"""Vendors read through the device protocol (``wattsup.sensors.devices``); NVML and RAPL have the
tracks above (the NVML counter is shaped by its power samples, RAPL falls back on the CPU model)."""
VENDOR_INTERVAL_S = 0.1


def _vendor_track(dev: EnergyDevice) -> Track:
    """A polled track over one device of another vendor, guarded (a lost device holds its last power)."""
    interval = max(VENDOR_INTERVAL_S, min(dev.signal.refresh_s or 0.0, 1.0))
    if dev.signal.kind == "energy_counter":

        def read(t: float) -> float:
            return dev.read_energy_j()

        primary = PolledEnergyTrack(
            dev.component,
            read,
            interval,
            dev.method or "counter",
            dev.detail,
            relative_bound=dev.relative_bound,
        )
    else:
        primary = PolledEnergyTrack(
            dev.component,
            PowerIntegrator(dev.read_power_w),
            interval,
            dev.method or "sampled",
            dev.detail,
            relative_bound=dev.relative_bound,
        )
    primary.close = dev.close  # type: ignore[method-assign]
    # no stall check here: a rail or an idle engine may read a constant; the device raises SensorStuck itself
    # where it knows its counter must move (then the guard fills from the failure on)
    return GuardedTrack(primary, None, stuck_after_s=math.inf)


def _vendor_tracks(out: Sources, want_gpu: bool, want_cpu: bool, cpu_found: bool) -> None:
    names = [s for s in OTHER_SOURCES if want_gpu or s in ("ioreport",)]
    if want_cpu and not cpu_found:
        names.append("amd_energy")
    if not names:
        return
    found = discover_devices(sources=names)
    taken = {t.name for t in out.tracks}
    for st in found.sources:  # doctor lists every vendor; the meter keeps what it uses or the user can fix
        if st.available or st.actionable:
            out.statuses.append(
                SensorStatus(
                    ", ".join(st.components) or st.source,
                    st.source,
                    st.available,
                    None,
                    st.reason if st.available else "",
                    reason="" if st.available else st.reason,
                    actionable=st.actionable,
                )
            )
    for dev in found.devices:
        if dev.component in taken or dev.includes:  # a total that contains other rails: not counted twice
            dev.close()
            continue
        if not want_gpu and not dev.component.startswith(("cpu", "dram")):
            dev.close()
            continue
        out.tracks.append(_vendor_track(dev))
        taken.add(dev.component)
    for dev in found.unmeasured:
        out.statuses.append(SensorStatus(dev.component, dev.identity.source, False, reason=dev.detail))
        dev.close()


def discover(
    gpu: bool = True,
    cpu: bool = True,
    ram: bool = True,
    gpu_indices: list[int] | None = None,
    powercap_root: str | None = None,
    pid: int | None = None,
    exclude_pids: frozenset[int] = frozenset(),
) -> Sources:
    """Every energy source this machine offers, best method first, with reasons for the missing ones.

    ``pid``: meter that process tree's CPU (its own CPU time, without ``exclude_pids``); ``None``: the
    machine's. With a ``pid`` the sources also hold the host-load track."""
    out = Sources()
    if gpu:
        _gpu_tracks(out, gpu_indices)
    has_dram = False
    if cpu:
        has_dram = _rapl_tracks(out, powercap_root, pid, exclude_pids)
    if gpu_indices is None:  # other vendors' devices (an explicit NVIDIA selection asks for those alone)
        _vendor_tracks(out, gpu, cpu, any(t.name == "cpu" for t in out.tracks))
        has_dram |= any(t.name == "dram" for t in out.tracks)
    if cpu and not any(t.name == "cpu" for t in out.tracks):
        track = _cpu_model_track(pid, exclude_pids)
        out.tracks.append(track)
        out.statuses.append(SensorStatus("cpu", "model", True, "modeled", track.detail))
    if ram and not has_dram:
        track = _ram_model_track(shared=pid is not None)
        out.tracks.append(track)
        out.statuses.append(SensorStatus("ram", "model", True, "modeled", track.detail))
    if pid is not None:
        out.host = host_track(pid, exclude_pids)
    return out
