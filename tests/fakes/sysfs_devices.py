"""Fake sysfs trees for the sysfs-read devices, laid out as the kernels lay them out, whose files follow a
simulated power trace: call ``update()`` after moving the clock and the files hold what the driver would
show at that instant.

* :class:`FakeIntelHwmon`: ``/sys/class/hwmon/hwmon<i>`` with ``name`` = ``i915`` or ``xe``, a ``device``
  directory with ``uevent`` (PCI slot and id), ``energy1_input`` (µJ, 64-bit as the driver widens it),
  ``power1_rated_max`` (µW); the xe layout adds ``energy1_label`` = ``card``, ``energy2_*`` = ``pkg``.
* :class:`FakeAmdEnergy`: ``/sys/class/hwmon/hwmon<i>`` with ``name`` = ``amd_energy``,
  ``energy<k>_label`` = ``Ecore000``... then ``Esocket<s>``, ``energy<k>_input`` (µJ).
* :class:`FakeJetson`: the mainline ``ina3221`` hwmon layout of Jetson Linux 34+ (``in<k>_label``,
  ``in<k>_input`` mV, ``curr<k>_input`` mA) or NVIDIA's ``ina3221x`` IIO layout of Jetson Linux 32
  (``rail_name_<k>``, ``in_power<k>_input`` mW, ``in_voltage<k>_input``, ``in_current<k>_input``).
* :class:`FakeNeuron`: ``/sys/devices/virtual/neuron_device/neuron<i>/stats/power/utilization`` =
  ``status,timestamp,min,max,avg`` (% of TDP over the last 60 s period, rewritten every 60 s) and
  ``info/architecture/device_name``.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

from tests.fakes.nvml import FakeClock, Power, Profile


class _Trace:
    def __init__(self, clock: FakeClock, power: Profile) -> None:
        self.clock = clock
        self.power = Power.of(power)
        self.t0 = clock.monotonic()

    def joules(self, t: float | None = None) -> float:
        return self.power.joules(self.t0, self.clock.monotonic() if t is None else t)

    def true_joules(self, a: float, b: float) -> float:
        return self.power.joules(a, b)


class FakeIntelHwmon(_Trace):
    def __init__(
        self,
        sys_root: Path,
        clock: FakeClock,
        power: Profile = 300.0,
        driver: str = "i915",
        hwmon: str = "hwmon3",
        slot: str = "0000:29:00.0",
        rated_w: float | None = 600.0,
        start_uj: int = 5_000_000_000,
    ) -> None:
        super().__init__(clock, power)
        self.dir = sys_root / "class" / "hwmon" / hwmon
        dev = self.dir / "device"
        dev.mkdir(parents=True)
        (self.dir / "name").write_text(driver + "\n")
        (dev / "uevent").write_text(f"DRIVER={driver}\nPCI_ID=8086:0BD5\nPCI_SLOT_NAME={slot}\n")
        if rated_w is not None:
            (self.dir / "power1_rated_max").write_text(f"{int(rated_w * 1e6)}\n")
        self.energy_name = "energy1_input"
        if driver == "xe":
            (self.dir / "energy1_label").write_text("card\n")
            (self.dir / "energy2_label").write_text("pkg\n")
            (self.dir / "energy2_input").write_text("0\n")
        self.offset_uj = start_uj
        self.frozen: int | None = None
        self.update()

    @property
    def energy_file(self) -> Path:
        return self.dir / self.energy_name

    def value_uj(self) -> int:
        return self.offset_uj + math.floor(self.joules() * 1e6)

    def update(self) -> None:
        v = self.frozen if self.frozen is not None else self.value_uj()
        self.energy_file.write_text(f"{v}\n")

    def reset(self) -> None:
        """A driver reload: the counter restarts from zero now."""
        self.offset_uj = -math.floor(self.joules() * 1e6)

    def remove(self) -> None:
        shutil.rmtree(self.dir)


class FakeAmdEnergy(_Trace):
    """Socket counters of the amd_energy driver; the power is split evenly across ``sockets``."""

    def __init__(
        self, sys_root: Path, clock: FakeClock, power: Profile = 200.0, sockets: int = 2, cores: int = 4
    ):
        super().__init__(clock, power)
        self.dir = sys_root / "class" / "hwmon" / "hwmon2"
        self.dir.mkdir(parents=True)
        (self.dir / "name").write_text("amd_energy\n")
        k = 1
        for c in range(cores):
            (self.dir / f"energy{k}_label").write_text(f"Ecore{c:03d}\n")
            (self.dir / f"energy{k}_input").write_text("123\n")
            k += 1
        self.socket_files = []
        for s in range(sockets):
            (self.dir / f"energy{k}_label").write_text(f"Esocket{s}\n")
            self.socket_files.append(self.dir / f"energy{k}_input")
            k += 1
        self.update()

    def update(self) -> None:
        share = self.joules() / len(self.socket_files)
        for i, f in enumerate(self.socket_files):
            f.write_text(f"{1_000_000 * (i + 1) + math.floor(share * 1e6)}\n")


JETSON_ORIN_NX = ("VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC")
JETSON_AGX_ORIN = (("VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0"), ("NC", "VDDQ_VDD2_1V8AO", "NC"))


class FakeJetson:
    """INA3221 rails whose power follows one trace each (``rails``: label -> profile)."""

    def __init__(
        self,
        sys_root: Path,
        clock: FakeClock,
        rails: dict[str, Profile],
        layout: str = "hwmon",
        volts_mv: int = 5000,
        sensor_labels: tuple[tuple[str, ...], ...] | None = None,
    ) -> None:
        self.clock = clock
        self.t0 = clock.monotonic()
        self.power = {k: Power.of(v) for k, v in rails.items()}
        self.volts_mv = volts_mv
        self.layout = layout
        drivers = sys_root / "bus" / "i2c" / "drivers"
        groups = sensor_labels or (tuple(rails),)
        self.files: dict[str, tuple[Path, ...]] = {}
        self.dirs: list[Path] = []
        for n, labels in enumerate(groups):
            addr = f"1-004{n}"
            if layout == "hwmon":
                d = drivers / "ina3221" / addr / "hwmon" / f"hwmon{n + 1}"
                d.mkdir(parents=True)
                for k, label in enumerate(labels, start=1):
                    (d / f"in{k}_label").write_text(label + "\n")
                    self.files[label] = (d / f"in{k}_input", d / f"curr{k}_input")
                    for f in self.files[label]:
                        f.write_text("0\n")
            else:
                d = drivers / "ina3221x" / addr / f"iio:device{n}"
                d.mkdir(parents=True)
                for k, label in enumerate(labels):
                    (d / f"rail_name_{k}").write_text(label + "\n")
                    self.files[label] = (d / f"in_power{k}_input",)
                    (d / f"in_voltage{k}_input").write_text(f"{volts_mv}\n")
                    (d / f"in_current{k}_input").write_text("0\n")
            self.dirs.append(d)
        self.update()

    def watts(self, rail: str) -> float:
        return self.power[rail].watts(self.clock.monotonic()) if rail in self.power else 0.0

    def true_joules(self, rail: str, a: float, b: float) -> float:
        return self.power[rail].joules(a, b)

    def update(self) -> None:
        for label, files in self.files.items():
            w = self.watts(label)
            if self.layout == "hwmon":
                files[0].write_text(f"{self.volts_mv}\n")
                files[1].write_text(f"{round(w * 1e6 / self.volts_mv)}\n")
            else:
                files[0].write_text(f"{round(w * 1e3)}\n")


class FakeNeuron:
    """Neuron devices whose utilization file is rewritten at every 60 s boundary with the previous
    period's min/max/average power as % of ``tdp_w``."""

    PERIOD_S = 60.0

    def __init__(
        self,
        sys_root: Path,
        clock: FakeClock,
        power: Profile,
        tdp_w: float = 100.0,
        chip: str = "inferentia2",
        count: int = 1,
    ) -> None:
        self.clock = clock
        self.power = Power.of(power)
        self.tdp_w = tdp_w
        self.t0 = clock.monotonic()
        self.base = sys_root / "devices" / "virtual" / "neuron_device"
        self.devs = []
        for i in range(count):
            d = self.base / f"neuron{i}"
            (d / "stats" / "power").mkdir(parents=True)
            (d / "info" / "architecture").mkdir(parents=True)
            (d / "info" / "architecture" / "device_name").write_text(chip + "\n")
            self.devs.append(d)
        (self.base / "neuron_core0").mkdir()  # per-core entries share the prefix: not devices
        self.status = "POWER_STATUS_VALID"
        self.frozen = False
        self._period = -1
        self.update()

    def update(self) -> None:
        k = math.floor((self.clock.monotonic() - self.t0) / self.PERIOD_S)
        if self.frozen or (k == self._period and k >= 0):
            return
        self._period = k
        a, b = self.t0 + (k - 1) * self.PERIOD_S, self.t0 + k * self.PERIOD_S
        avg = self.power.joules(a, b) / self.PERIOD_S
        pct = 100 * avg / self.tdp_w
        line = f"{self.status},{int(1_700_000_000 + b)},{pct:.2f},{pct:.2f},{pct:.2f}\n"
        for d in self.devs:
            (d / "stats" / "power" / "utilization").write_text(line)
