"""NVIDIA Jetson boards: the INA3221 power monitors' rails in sysfs, one device per rail (no extra library).

Two layouts, as the kernels lay them out:

* Jetson Linux 34+ (JetPack 5/6: Orin, and Xavier on newer releases), the mainline ``ina3221`` hwmon
  driver: ``/sys/bus/i2c/drivers/ina3221/<bus>-<addr>/hwmon/hwmon<i>/in<k>_label`` (rail name),
  ``in<k>_input`` (bus voltage, mV) and ``curr<k>_input`` (current, mA) for channels k = 1..3.
* Jetson Linux 32 (JetPack 4: Nano, TX1/TX2, Xavier), NVIDIA's ``ina3221x`` IIO driver:
  ``/sys/bus/i2c/drivers/ina3221x/<bus>-<addr>/iio:device<i>/rail_name_<k>``, ``in_power<k>_input``
  (mW), ``in_voltage<k>_input`` (mV), ``in_current<k>_input`` (mA) for k = 0..2.

Each rail is read as instantaneous power (voltage × current, or the driver's power) and integrated by
the sampler: method ``sampled``. The board input rail (``VDD_IN``, ``VIN_SYS_5V0``, ``POM_5V_IN``)
contains every other rail of the module: it is the one to add to a total; the others are its parts
(``included_in``). Unconnected channels (label ``NC``) are skipped. Each rail carries a ±5% bound: an
allowance for the shunt monitor and for power between samples, not a calibrated figure.
"""

from __future__ import annotations

import re
from pathlib import Path

from wattsup.errors import DeviceNotFound, DevicePermissionDenied, DriverNotLoaded, SensorUnavailable
from wattsup.sensors.device import EnergyDevice, Identity, Probe, Signal
from wattsup.sensors.sysfs import read_number, read_text, sysfs_root

RELATIVE_BOUND = 0.05
INPUT_RAILS = ("VDD_IN", "VIN_SYS_5V0", "POM_5V_IN", "5V_IN", "VIN")
RAIL_MAX_W = 100.0
"""Plausibility limit of one rail (an AGX Orin module is rated up to 60 W)."""


def _slug(rail: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", rail.lower()).strip("_")


def _is_input(rail: str) -> bool:
    return rail.upper() in INPUT_RAILS


class JetsonRail(EnergyDevice):
    def __init__(
        self,
        rail: str,
        power_file: Path | None,
        volt_file: Path | None,
        curr_file: Path | None,
        sensor: str,
        included_in: str | None,
        includes: tuple[str, ...],
    ) -> None:
        self.power_file, self.volt_file, self.curr_file = power_file, volt_file, curr_file
        how = "in_power (mW)" if power_file is not None else "bus voltage × current"
        role = (
            "board input: contains every other rail" if includes else f"part of {included_in or 'the board'}"
        )
        super().__init__(
            Identity(f"jetson:{_slug(rail)}", "NVIDIA", f"Jetson rail {rail}", "ina3221", uuid=sensor),
            Signal("power", averaging_window_s=0.0, refresh_s=None),
            "sampled",
            f"Jetson INA3221 rail {rail} ({sensor}): {how}, sampled; {role}",
            RAIL_MAX_W,
            relative_bound=RELATIVE_BOUND,
            included_in=included_in,
            includes=includes,
        )

    def _read_power_w(self) -> float:
        if self.power_file is not None:
            return read_number(self.power_file, self.component) / 1e3
        assert self.volt_file is not None and self.curr_file is not None
        mv = read_number(self.volt_file, self.component)
        ma = read_number(self.curr_file, self.component)
        return mv * ma / 1e6


def _rails(root: Path) -> list[tuple[str, Path | None, Path | None, Path | None, str]]:
    """(rail, power file, voltage file, current file, sensor) for every connected channel."""
    out: list[tuple[str, Path | None, Path | None, Path | None, str]] = []
    for hw in sorted(root.glob("ina3221/*/hwmon/hwmon*")):
        for label in sorted(hw.glob("in*_label")):
            k = label.name[2:].split("_", 1)[0]
            rail = read_text(label, "jetson")
            volt, curr = hw / f"in{k}_input", hw / f"curr{k}_input"
            if rail.upper() == "NC" or not (volt.exists() and curr.exists()):
                continue
            out.append((rail, None, volt, curr, hw.parent.parent.name))
    for dev in sorted(root.glob("ina3221x/*/iio:device*")):
        for name_file in sorted(dev.glob("rail_name_*")):
            k = name_file.name.rsplit("_", 1)[1]
            rail = read_text(name_file, "jetson")
            power = dev / f"in_power{k}_input"
            volt, curr = dev / f"in_voltage{k}_input", dev / f"in_current{k}_input"
            if rail.upper() == "NC":
                continue
            if power.exists():
                out.append((rail, power, None, None, dev.parent.name))
            elif volt.exists() and curr.exists():
                out.append((rail, None, volt, curr, dev.parent.name))
    return out


def discover(root: Path | str | None = None) -> Probe:
    """One device per INA3221 rail of this Jetson, or a typed error saying why there are none."""
    drivers = sysfs_root(root) / "bus" / "i2c" / "drivers"
    if not (drivers / "ina3221").is_dir() and not (drivers / "ina3221x").is_dir():
        raise DriverNotLoaded(
            f"no INA3221 driver under {drivers}: not a Jetson (or its power monitor driver is not loaded)"
        )
    rails = _rails(drivers)
    if not rails:
        raise DeviceNotFound("the INA3221 driver is loaded but exposes no connected rail")
    inputs = [r for r in rails if _is_input(r[0])]
    total = f"jetson:{_slug(inputs[0][0])}" if inputs else None
    parts = tuple(f"jetson:{_slug(r[0])}" for r in rails if not _is_input(r[0]))
    out = Probe()
    seen: set[str] = set()
    for rail, power, volt, curr, sensor in rails:
        if _slug(rail) in seen:
            continue
        seen.add(_slug(rail))
        is_total = total is not None and f"jetson:{_slug(rail)}" == total
        dev = JetsonRail(
            rail,
            power,
            volt,
            curr,
            sensor,
            included_in=None if is_total else total,
            includes=parts if is_total else (),
        )
        try:
            dev.read_power_w()
        except DevicePermissionDenied:
            raise  # the same for every rail: the source is unusable until access is granted
        except SensorUnavailable as e:
            out.problems.append((dev.component, e))
            continue
        out.devices.append(dev)
    return out
