"""A fake ``zeus_apple_silicon`` module: ``AppleEnergyMonitor().get_cumulative_energy()`` returns an
``AppleEnergyMetrics`` whose fields are cumulative millijoules (``None`` where the chip has no counter),
as the package's interface documents them (and Zeus's ``zeus/device/soc/apple.py`` reads them)."""

from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass
from typing import Any

from tests.fakes.nvml import FakeClock, Power, Profile


@dataclass
class AppleEnergyMetrics:
    cpu_total_mj: int | None = None
    efficiency_cores_mj: list[int] | None = None
    performance_cores_mj: list[int] | None = None
    efficiency_core_manager_mj: int | None = None
    performance_core_manager_mj: int | None = None
    dram_mj: int | None = None
    gpu_mj: int | None = None
    gpu_sram_mj: int | None = None
    ane_mj: int | None = None


class FakeAppleSilicon:
    """Per-field power traces (``fields``: metric field -> profile); fields left out read ``None``."""

    def __init__(self, clock: FakeClock, fields: dict[str, Profile], init_error: str | None = None) -> None:
        self.clock = clock
        self.power = {k: Power.of(v) for k, v in fields.items()}
        self.t0 = clock.monotonic()
        self.init_error = init_error
        self.read_error: str | None = None
        self.frozen: dict[str, int] = {}
        self.module = types.ModuleType("zeus_apple_silicon")
        fake = self

        class AppleEnergyMonitor:
            def __init__(self) -> None:
                if fake.init_error is not None:
                    raise RuntimeError(fake.init_error)

            def get_cumulative_energy(self) -> AppleEnergyMetrics:
                if fake.read_error is not None:
                    raise RuntimeError(fake.read_error)
                return fake.metrics()

            def begin_window(self, key: str, restart: bool = False) -> None:
                raise NotImplementedError("wattsup reads cumulative energy only")

            def end_window(self, key: str) -> AppleEnergyMetrics:
                raise NotImplementedError("wattsup reads cumulative energy only")

        self.module.AppleEnergyMonitor = AppleEnergyMonitor  # type: ignore[attr-defined]
        self.module.AppleEnergyMetrics = AppleEnergyMetrics  # type: ignore[attr-defined]

    def true_joules(self, field: str, a: float, b: float) -> float:
        return self.power[field].joules(a, b)

    def metrics(self) -> AppleEnergyMetrics:
        t = self.clock.monotonic()
        values: dict[str, Any] = {}
        for k, p in self.power.items():
            values[k] = self.frozen.get(k, 50_000 + math.floor(p.joules(self.t0, t) * 1e3))
        return AppleEnergyMetrics(**values)

    def install(self, monkeypatch: Any) -> FakeAppleSilicon:
        monkeypatch.setitem(sys.modules, "zeus_apple_silicon", self.module)
        return self
