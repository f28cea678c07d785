"""NVIDIA GPUs through nvidia-ml-py (``pynvml``).

Three signals per GPU, best first:

* the total-energy counter (``nvmlDeviceGetTotalEnergyConsumption``, mJ since driver load; Volta and
  newer). It steps every ~100 ms on Hopper, and one read costs ~4 ms there.
* the power-sample buffer (``nvmlDeviceGetSamples`` with ``NVML_TOTAL_POWER_SAMPLES``): power every
  ~20 ms with a timestamp, kept by the driver for a few seconds; cheap to read.
* the power reading (``nvmlDeviceGetPowerUsage``, mW; a 1 s average on Ampere and newer). Used alone
  only where there is no counter (method ``sampled``).

NVML is initialised lazily (never at import) and reference-counted, so importing wattsup on a machine
without a driver costs nothing and fails nothing.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from wattsup.errors import SensorUnavailable
from wattsup.sensors.base import SharedLibrary

_module: ModuleType | None = None


def _pynvml() -> ModuleType:
    global _module
    if _module is None:
        try:
            import pynvml
        except ImportError as e:  # pragma: no cover - exercised where the extra is missing
            raise SensorUnavailable(
                "nvidia-ml-py is not installed; install the GPU extra: pip install 'wattsup[gpu]'"
            ) from e
        _module = pynvml
    return _module


def _start(nv: ModuleType) -> None:
    try:
        nv.nvmlInit()
    except nv.NVMLError as e:
        raise SensorUnavailable(
            f"NVML could not start ({e}): no NVIDIA driver here, or it is not loaded"
        ) from e


_library = SharedLibrary(_pynvml, _start, lambda nv: nv.nvmlShutdown(), lambda nv: nv.NVMLError)


def acquire() -> ModuleType:
    """Initialise NVML (once per process, reference-counted) and return the ``pynvml`` module."""
    return _library.acquire()


def release() -> None:
    """Drop one reference taken by :func:`acquire`; NVML shuts down with the last one."""
    _library.release()


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def visible_indices(nv: ModuleType, env: str | None = None) -> list[int]:
    """NVML indices of the GPUs this process may use, honouring ``CUDA_VISIBLE_DEVICES``.

    Entries are indices or UUIDs (``GPU-…``, a unique prefix is enough), as CUDA accepts them; as in
    CUDA, parsing stops at the first entry that names no GPU. MIG instances (``MIG-…``) are skipped:
    NVML reports energy per physical GPU, which a MIG slice shares with others. Integer indices are
    taken in NVML's (PCI bus) order: set ``CUDA_DEVICE_ORDER=PCI_BUS_ID`` so CUDA numbers GPUs the same way.
    """
    count = int(nv.nvmlDeviceGetCount())
    spec = os.environ.get("CUDA_VISIBLE_DEVICES") if env is None else env
    if spec is None:
        return list(range(count))
    uuids: list[str] | None = None
    out: list[int] = []
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            break
        if entry.lstrip("-").isdigit():
            i = int(entry)
            if i < 0 or i >= count:
                break
            idx = i
        elif entry.startswith("MIG-"):
            continue
        else:
            if uuids is None:
                uuids = [_text(nv.nvmlDeviceGetUUID(nv.nvmlDeviceGetHandleByIndex(i))) for i in range(count)]
            want = entry if entry.startswith("GPU-") else "GPU-" + entry
            matches = [i for i, u in enumerate(uuids) if u.startswith(want)]
            if len(matches) != 1:
                break
            idx = matches[0]
        if idx not in out:
            out.append(idx)
    return out


@dataclass
class GpuInfo:
    index: int
    name: str
    uuid: str
    power_limit_w: float | None
    has_counter: bool
    has_samples: bool


class NvmlGpu:
    """One physical GPU. Reads are thread-safe (NVML is); every unit is stated in the method name."""

    def __init__(self, nv: ModuleType, index: int) -> None:
        self.nv = nv
        self.index = index
        self.handle = nv.nvmlDeviceGetHandleByIndex(index)
        self.name = _text(nv.nvmlDeviceGetName(self.handle))
        self.uuid = _text(nv.nvmlDeviceGetUUID(self.handle))
        try:
            self.power_limit_w: float | None = nv.nvmlDeviceGetEnforcedPowerLimit(self.handle) / 1000.0
        except nv.NVMLError:
            self.power_limit_w = None
        self.has_counter = self._probe(lambda: nv.nvmlDeviceGetTotalEnergyConsumption(self.handle))
        self.has_samples = self._probe_samples()
        self.samples_type = getattr(nv, "NVML_TOTAL_POWER_SAMPLES", 0)

    def _probe(self, fn: Any) -> bool:
        try:
            fn()
        except self.nv.NVMLError:
            return False
        return True

    def _probe_samples(self) -> bool:
        nv = self.nv
        try:
            nv.nvmlDeviceGetSamples(self.handle, getattr(nv, "NVML_TOTAL_POWER_SAMPLES", 0), 0)
        except nv.NVMLError as e:
            # NOT_FOUND means "supported, nothing buffered yet".
            return isinstance(e, getattr(nv, "NVMLError_NotFound", ()))
        except (AttributeError, TypeError):
            return False
        return True

    def info(self) -> GpuInfo:
        return GpuInfo(
            self.index, self.name, self.uuid, self.power_limit_w, self.has_counter, self.has_samples
        )

    def energy_mj(self) -> int:
        """The total-energy counter, millijoules since the driver loaded."""
        return int(self.nv.nvmlDeviceGetTotalEnergyConsumption(self.handle))

    def power_mw(self) -> int:
        """``nvmlDeviceGetPowerUsage``: milliwatts (a 1 s average on Ampere and newer)."""
        return int(self.nv.nvmlDeviceGetPowerUsage(self.handle))

    def power_samples(self, since_us: int) -> list[tuple[int, float]]:
        """Buffered power samples newer than ``since_us``: (driver timestamp µs, watts), oldest first."""
        nv = self.nv
        try:
            _, samples = nv.nvmlDeviceGetSamples(self.handle, self.samples_type, since_us)
        except nv.NVMLError as e:
            if isinstance(e, getattr(nv, "NVMLError_NotFound", ())):
                return []
            raise
        out = [
            (int(s.timeStamp), s.sampleValue.uiVal / 1000.0) for s in samples if int(s.timeStamp) > since_us
        ]
        out.sort()
        return out


def sample_clock_offset_s(
    newest_us: int, now_mono: float | None = None, now_real: float | None = None
) -> float | None:
    """Offset (s) to add to a driver timestamp (µs / 1e6) to put it on ``time.monotonic``.

    The driver stamps samples with a wall-clock (``CLOCK_REALTIME``) time on the machines we measured;
    other stacks may use a monotonic or boot-time clock. The clock that puts the newest sample in the
    last few seconds, closest to now, wins; ``None`` when none does (the caller then anchors the newest
    sample at the time it was read). Give ``now_mono`` and ``now_real`` read together (one right after the
    other): the realtime offset is their difference, so any delay between them shifts every sample.
    """
    now_mono = time.monotonic() if now_mono is None else now_mono
    now_real = time.time() if now_real is None else now_real
    t = newest_us / 1e6
    candidates = [now_mono - now_real, 0.0]
    if hasattr(time, "CLOCK_BOOTTIME"):
        candidates.append(now_mono - time.clock_gettime(time.CLOCK_BOOTTIME))
    fits = [off for off in candidates if -0.5 <= now_mono - (t + off) <= 5.0]
    if not fits:
        return None
    return min(fits, key=lambda off: abs(now_mono - (t + off)))
