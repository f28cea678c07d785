"""NVIDIA GPUs behind the device protocol, over :class:`wattsup.sensors.nvml.NvmlGpu` (unchanged).

Signal: the total-energy counter (mJ since the driver loaded, 64-bit; Volta and newer), else the power
reading (``nvmlDeviceGetPowerUsage``, mW; a 1 s average on Ampere and newer). NVML's return codes become
the typed errors of :mod:`wattsup.errors`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from types import ModuleType

from wattsup import errors
from wattsup.sensors import nvml
from wattsup.sensors.device import EnergyDevice, Identity, Probe, Signal

DEFAULT_MAX_W = 1500.0
"""Plausibility limit for a GPU whose power limit NVML does not give (above any NVIDIA GPU's limit)."""

_TYPED: tuple[tuple[str, type[errors.SensorUnavailable], str], ...] = (
    ("NVMLError_GpuIsLost", errors.DeviceLost, "the GPU fell off the bus or its driver reset; check dmesg"),
    ("NVMLError_NoPermission", errors.DevicePermissionDenied, "run as a user allowed to query the GPU"),
    ("NVMLError_NotSupported", errors.DeviceNotSupported, "this GPU or driver does not offer it"),
    ("NVMLError_NotFound", errors.DeviceNotFound, "no such GPU"),
    ("NVMLError_DriverNotLoaded", errors.DriverNotLoaded, "load the NVIDIA driver (nvidia-smi must work)"),
    ("NVMLError_LibraryNotFound", errors.DriverNotLoaded, "install the NVIDIA driver (libnvidia-ml.so)"),
    ("NVMLError_Uninitialized", errors.DriverNotLoaded, "NVML was shut down while a device was being read"),
)


def typed_error(nv: ModuleType, err: BaseException, what: str) -> errors.SensorUnavailable:
    """The typed error for an NVML error raised while doing ``what``."""
    for name, cls, hint in _TYPED:
        klass = getattr(nv, name, None)
        if isinstance(klass, type) and isinstance(err, klass):
            return cls(f"{what}: NVML says {err}; {hint}")
    return errors.SensorUnavailable(f"{what}: NVML error {err}")


@contextlib.contextmanager
def _mapped(nv: ModuleType, what: str) -> Iterator[None]:
    try:
        yield
    except nv.NVMLError as e:
        raise typed_error(nv, e, what) from e


class NvidiaGpu(EnergyDevice):
    """One physical NVIDIA GPU. Holds one NVML reference until :meth:`close`."""

    def __init__(self, gpu: nvml.NvmlGpu) -> None:
        self.gpu = gpu
        max_w = (gpu.power_limit_w or DEFAULT_MAX_W) * 1.5
        ident = Identity(f"gpu:{gpu.index}", "NVIDIA", gpu.name, "nvml", gpu.index, gpu.uuid)
        if gpu.has_counter:
            signal = Signal("energy_counter", unit_j=1e-3, width_bits=64, refresh_s=0.1)
            super().__init__(ident, signal, "counter", f"{gpu.name}: NVML total-energy counter (mJ)", max_w)
        else:
            signal = Signal("power", averaging_window_s=1.0, refresh_s=0.1)
            super().__init__(
                ident,
                signal,
                "sampled",
                f"{gpu.name}: NVML power readings (1 s average on Ampere and newer; no energy counter)",
                max_w,
                relative_bound=0.05,
            )
        self.extra["power_samples"] = str(gpu.has_samples)
        self._held = True

    def _read_counter_raw(self) -> float:
        with _mapped(self.gpu.nv, f"{self.component} energy counter"):
            return float(self.gpu.energy_mj())

    def _read_power_w(self) -> float:
        with _mapped(self.gpu.nv, f"{self.component} power reading"):
            return self.gpu.power_mw() / 1000.0

    def close(self) -> None:
        if self._held:
            self._held = False
            nvml.release()


def _start() -> ModuleType:
    try:
        return nvml.acquire()
    except errors.SensorUnavailable as e:
        cause, nv = e.__cause__, nvml._module
        if nv is not None and cause is not None and isinstance(cause, nv.NVMLError):
            typed = typed_error(nv, cause, "NVML could not start")
            if type(typed) is errors.SensorUnavailable:  # an NVML error with no typed counterpart
                typed = errors.DriverNotLoaded(f"{e}")
            raise typed from cause
        raise  # nvidia-ml-py is not installed: the message says which extra to install


def discover(indices: list[int] | None = None) -> Probe:
    """Every visible NVIDIA GPU (``CUDA_VISIBLE_DEVICES`` honoured), or a typed error saying why none."""
    nv = _start()
    out = Probe()
    try:
        with _mapped(nv, "listing NVIDIA GPUs"):
            visible = nvml.visible_indices(nv) if indices is None else indices
        if not visible:
            spec = os.environ.get("CUDA_VISIBLE_DEVICES")
            raise errors.DeviceNotFound(
                "the NVIDIA driver is loaded but no GPU is visible"
                + (f" (CUDA_VISIBLE_DEVICES={spec!r})" if spec is not None else "")
            )
        for idx in visible:
            try:
                with _mapped(nv, f"gpu:{idx}"):
                    gpu = nvml.NvmlGpu(nv, idx)
            except errors.SensorUnavailable as e:
                out.problems.append((f"gpu:{idx}", e))
                continue
            nvml.acquire()  # each device holds a reference, released by its close()
            out.devices.append(NvidiaGpu(gpu))
    finally:
        nvml.release()
    return out
