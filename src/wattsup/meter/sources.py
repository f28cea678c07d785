"""Builds the tracks for this machine from the sensors, and says why a missing source is missing.

GPU: every visible NVIDIA GPU, the counter (shaped by power samples where the driver keeps them), else
integrated power readings (``sampled``). CPU: RAPL package zones (``counter``), else the CPU model
(``modeled``). Memory: RAPL DRAM zones where present, else the RAM model (``modeled``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from wattsup.errors import SensorUnavailable
from wattsup.meter.timeline import CounterTrack, PolledEnergyTrack, PowerIntegrator, Track
from wattsup.sensors import models, nvml, rapl
from wattsup.sensors.base import CounterAccumulator, SensorStatus

RAPL_INTERVAL_S = 0.05
MODEL_INTERVAL_S = 0.25
SAMPLED_INTERVAL_S = 0.05
DEFAULT_GPU_MAX_W = 1500.0


@dataclass
class Sources:
    tracks: list[Track] = field(default_factory=list)
    statuses: list[SensorStatus] = field(default_factory=list)


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
                track = gpu_track(gpu)
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


def gpu_track(gpu: nvml.NvmlGpu) -> Track:
    """The best track one GPU allows."""
    max_w = (gpu.power_limit_w or DEFAULT_GPU_MAX_W) * 1.5
    name = f"gpu:{gpu.index}"
    if gpu.has_counter:
        acc = CounterAccumulator(scale_j=1e-3, wrap_range_raw=None, max_power_w=max_w)

        def read_counter() -> float:
            return acc.update(float(gpu.energy_mj()), time.monotonic())

        read_samples = None
        if gpu.has_samples:
            state: dict[str, float | None] = {"last": None, "offset": None, "fixed": None}

            def read_samples_fn() -> list[tuple[float, float]]:
                # The driver's clock may step (CLOCK_REALTIME: NTP, date, VM resume): the offset is
                # worked out again at every read, and "since" is the last sample's monotonic time on it.
                now = time.monotonic()
                last, prev_off = state["last"], state["offset"]
                since = 0 if last is None or prev_off is None else max(int((last - prev_off) * 1e6), 0)
                raw = gpu.power_samples(since)
                if not raw and since:
                    raw = gpu.power_samples(0)  # the clock went back: take the buffer again
                if not raw:
                    return []
                off = nvml.sample_clock_offset_s(raw[-1][0], now)
                if off is None:  # unknown clock: the newest sample was taken about now (fixed once)
                    fixed = state["fixed"]
                    if fixed is None:
                        fixed = state["fixed"] = now - raw[-1][0] / 1e6
                    off = fixed
                state["offset"] = off
                out = [(ts / 1e6 + off, w) for ts, w in raw]
                out = [(t, w) for t, w in out if t <= now + 0.005 and (last is None or t > last)]
                if out:
                    state["last"] = out[-1][0]
                return out

            read_samples = read_samples_fn
        detail = f"{gpu.name}: NVML total-energy counter" + (
            ", shaped by 20 ms power samples" if read_samples else ""
        )
        return _NvmlCounterTrack(name, read_counter, read_samples, detail, max_power_w=max_w)
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


def _rapl_tracks(out: Sources, root: str | None) -> bool:
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
        out.tracks.append(PolledEnergyTrack(comp, read, RAPL_INTERVAL_S, "counter", detail))
        out.statuses.append(SensorStatus(comp, "rapl", True, "counter", detail))
    return has_dram


def _cpu_model_track(out: Sources, pid: int | None) -> None:
    spec = models.cpu_spec(tdp_w=models.cpu_tdp_override())
    util = models.CpuUtilisation(pid)

    def power() -> float:
        return spec.tdp_w * models.load_fraction(util.sample())

    scope = "this process tree's share" if pid is not None else "machine-wide utilisation"
    detail = f"modelled: {spec.model}, {spec.source}; Teads load curve, {scope}"
    out.tracks.append(
        PolledEnergyTrack(
            "cpu",
            PowerIntegrator(power),
            MODEL_INTERVAL_S,
            "modeled",
            detail,
            relative_bound=models.MODELED_RELATIVE_BOUND,
        )
    )
    out.statuses.append(SensorStatus("cpu", "model", True, "modeled", detail))


def _ram_model_track(out: Sources) -> None:
    gb = models.ram_installed_gb()
    w = models.ram_power_w(gb)
    detail = f"modelled: {gb:.1f} GB installed × {models.RAM_W_PER_GB} W/GB = {w:.1f} W"
    out.tracks.append(
        PolledEnergyTrack(
            "ram",
            lambda t: w * t,
            MODEL_INTERVAL_S,
            "modeled",
            detail,
            relative_bound=models.MODELED_RELATIVE_BOUND,
        )
    )
    out.statuses.append(SensorStatus("ram", "model", True, "modeled", detail))


def discover(
    gpu: bool = True,
    cpu: bool = True,
    ram: bool = True,
    gpu_indices: list[int] | None = None,
    powercap_root: str | None = None,
    pid: int | None = None,
) -> Sources:
    """Every energy source this machine offers, best method first, with reasons for the missing ones."""
    out = Sources()
    if gpu:
        _gpu_tracks(out, gpu_indices)
    has_dram = False
    if cpu:
        before = len(out.tracks)
        has_dram = _rapl_tracks(out, powercap_root)
        if not any(t.name == "cpu" for t in out.tracks[before:]):
            _cpu_model_track(out, pid)
    if ram and not has_dram:
        _ram_model_track(out)
    return out
