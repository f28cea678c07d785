"""A fake ``amdsmi`` module (ROCm's Python binding) with the real function names, result dicts and errors.

Installed into ``sys.modules['amdsmi']`` so ``wattsup.sensors.amd`` imports it as it would the real one.
What it reproduces, from ``py-interface/amdsmi_interface.py`` and ``amdsmi_exception.py``:

* ``amdsmi_init(flag=AmdSmiInitFlags.INIT_AMD_GPUS)``, ``amdsmi_shut_down()``,
  ``amdsmi_get_processor_handles()``;
* ``amdsmi_get_energy_count(handle)``: ``{'power': n, 'counter_resolution': r, 'timestamp': t}`` in
  6.0-6.2.0, ``{'power': n, 'energy_accumulator': n, ...}`` in 6.2.1-6.3, ``{'energy_accumulator': n,
  ...}`` in 7.x (``api``), with ``r`` in µJ per count (15.3 on MI200/MI300) and a 64-bit count;
* ``amdsmi_get_power_info(handle)``: ``current_socket_power``, ``average_socket_power`` (W, int) and
  voltages, each ``"N/A"`` where the part does not report it (the library maps 0xFFFF to "N/A");
* ``amdsmi_get_gpu_asic_info`` (``market_name``...), ``amdsmi_get_gpu_device_uuid``,
  ``amdsmi_get_power_cap_info`` (µW);
* ``AmdSmiLibraryException(err_code)`` with ``get_error_code()``/``get_error_info()``, under
  ``AmdSmiException``.
"""

from __future__ import annotations

import enum
import math
import sys
import types
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.nvml import FakeClock, Power, Profile

STATUS = {
    2: "AMDSMI_STATUS_NOT_SUPPORTED",
    10: "AMDSMI_STATUS_NO_PERM",
    31: "AMDSMI_STATUS_NOT_FOUND",
    34: "AMDSMI_STATUS_DRIVER_NOT_LOADED",
    32: "AMDSMI_STATUS_NOT_INIT",
}


class AmdSmiException(Exception):
    pass


class AmdSmiLibraryException(AmdSmiException):
    def __init__(self, err_code: int) -> None:
        err_code = abs(err_code)
        super().__init__(err_code)
        self.err_code = err_code
        self.err_info = STATUS.get(err_code, "AMDSMI_STATUS_UNKNOWN_ERROR") + " - fake"

    def __str__(self) -> str:
        return f"Error code:\n\t{self.err_code} | {self.err_info}"

    def get_error_info(self) -> str:
        return self.err_info

    def get_error_code(self) -> int:
        return self.err_code


class AmdSmiInitFlags(enum.IntEnum):
    INIT_ALL_PROCESSORS = 0xFFFFFFFF
    INIT_AMD_CPUS = 1
    INIT_AMD_GPUS = 2


API = (
    "amdsmi_init",
    "amdsmi_shut_down",
    "amdsmi_get_processor_handles",
    "amdsmi_get_gpu_asic_info",
    "amdsmi_get_gpu_device_uuid",
    "amdsmi_get_power_cap_info",
    "amdsmi_get_energy_count",
    "amdsmi_get_power_info",
)
"""The amdsmi functions wattsup calls (the fake's methods of the same names)."""


@dataclass
class FakeAmdGpu:
    name: str = "AMD Instinct MI300X"
    power: Profile = 500.0
    counter: bool = True
    """False: amdsmi_get_energy_count raises AMDSMI_STATUS_NOT_SUPPORTED."""
    counter_value: Any = None
    """Forces what the count reads (``"N/A"``, 0) instead of the trace."""
    resolution_uj: float = 15.3
    current_power: bool = True
    average_power: bool = True
    power_cap_uw: int = 750_000_000
    start_count: int = 10_000_000
    reset_at: float | None = None
    frozen_count: int | None = None
    read_error: int | None = None
    """An amdsmi status code every read raises (31: the GPU went away)."""
    uuid: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.power = Power.of(self.power)


@dataclass(frozen=True)
class Handle:
    index: int


class FakeAmdSmi:
    def __init__(
        self, gpus: list[FakeAmdGpu], clock: FakeClock, api: str = "7.x", init_error: int | None = None
    ):
        self.gpus = gpus
        self.clock = clock
        self.api = api
        self.init_error = init_error
        self.inits = 0
        self.t0 = clock.monotonic()
        self.module = self._module()

    def _gpu(self, h: Handle) -> FakeAmdGpu:
        if self.inits <= 0:
            raise AmdSmiLibraryException(32)
        g = self.gpus[h.index]
        if g.read_error is not None:
            raise AmdSmiLibraryException(g.read_error)
        return g

    def count(self, i: int) -> int:
        g = self.gpus[i]
        if g.frozen_count is not None:
            return g.frozen_count
        t = self.clock.monotonic()
        power = Power.of(g.power)
        if g.reset_at is not None and t >= g.reset_at:
            return math.floor(power.joules(g.reset_at, t) * 1e6 / g.resolution_uj)
        return g.start_count + math.floor(power.joules(self.t0, t) * 1e6 / g.resolution_uj)

    def _module(self) -> types.ModuleType:
        """An ``amdsmi`` module whose functions are this fake's ``amdsmi_*`` methods."""
        m = types.ModuleType("amdsmi")
        m.AmdSmiException = AmdSmiException  # type: ignore[attr-defined]
        m.AmdSmiLibraryException = AmdSmiLibraryException  # type: ignore[attr-defined]
        m.AmdSmiInitFlags = AmdSmiInitFlags  # type: ignore[attr-defined]
        for name in API:
            setattr(m, name, getattr(self, name))
        return m

    def amdsmi_init(self, flag: AmdSmiInitFlags = AmdSmiInitFlags.INIT_AMD_GPUS) -> None:
        if not isinstance(flag, AmdSmiInitFlags):
            raise TypeError(flag)
        if self.init_error is not None:
            raise AmdSmiLibraryException(self.init_error)
        self.inits += 1

    def amdsmi_shut_down(self) -> None:
        self.inits -= 1

    def amdsmi_get_processor_handles(self) -> list[Handle]:
        if self.inits <= 0:
            raise AmdSmiLibraryException(32)
        return [Handle(i) for i in range(len(self.gpus))]

    def amdsmi_get_gpu_asic_info(self, processor_handle: Handle) -> dict[str, Any]:
        g = self._gpu(processor_handle)
        return {
            "market_name": g.name,
            "vendor_id": "0x1002",
            "vendor_name": "Advanced Micro Devices Inc.",
            "device_id": "0x74a1",
            "rev_id": "0x00",
            "asic_serial": "0x0",
            "oam_id": processor_handle.index,
        }

    def amdsmi_get_gpu_device_uuid(self, processor_handle: Handle) -> str:
        g = self._gpu(processor_handle)
        return g.uuid or f"{processor_handle.index:02x}ff74a1-0000-1000-80b4-2f5d0d3b9c1e"

    def amdsmi_get_power_cap_info(self, processor_handle: Handle) -> dict[str, Any]:
        g = self._gpu(processor_handle)
        return {
            "power_cap": g.power_cap_uw,
            "default_power_cap": g.power_cap_uw,
            "dpm_cap": 0,
            "min_power_cap": 0,
            "max_power_cap": g.power_cap_uw,
        }

    def amdsmi_get_energy_count(self, processor_handle: Handle) -> dict[str, Any]:
        g = self._gpu(processor_handle)
        if not g.counter:
            raise AmdSmiLibraryException(2)
        n = g.counter_value if g.counter_value is not None else self.count(processor_handle.index)
        ts = int(self.clock.monotonic() * 1e9)
        if self.api == "6.0":
            return {"power": n, "counter_resolution": g.resolution_uj, "timestamp": ts}
        if self.api == "6.2.1":
            return {
                "power": n,
                "energy_accumulator": n,
                "counter_resolution": g.resolution_uj,
                "timestamp": ts,
            }
        return {"energy_accumulator": n, "counter_resolution": g.resolution_uj, "timestamp": ts}

    def amdsmi_get_power_info(self, processor_handle: Handle) -> dict[str, Any]:
        g = self._gpu(processor_handle)
        t = self.clock.monotonic()
        p = Power.of(g.power)
        now_w = int(p.watts(t))
        avg_w = int(p.joules(t - 1.0, t))
        return {
            "current_socket_power": now_w if g.current_power else "N/A",
            "average_socket_power": avg_w if g.average_power else "N/A",
            "gfx_voltage": 800,
            "soc_voltage": 900,
            "mem_voltage": 1200,
            "power_limit": g.power_cap_uw // 1_000_000,
        }

    def install(self, monkeypatch: Any) -> FakeAmdSmi:
        monkeypatch.setitem(sys.modules, "amdsmi", self.module)
        return self
