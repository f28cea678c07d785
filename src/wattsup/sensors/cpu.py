"""CPU packages and DRAM behind the device protocol: Linux RAPL (powercap) and AMD's ``amd_energy`` driver.

RAPL (:mod:`wattsup.sensors.rapl`): ``energy_uj`` counters in µJ that wrap at ``max_energy_range_uj``.
Intel parts expose package and (on servers) DRAM zones. AMD parts (Zen, kernel 5.8 and newer) expose the
package zone only: their DRAM has no counter, so memory is modelled there, and the device says so.

``amd_energy`` (an out-of-tree AMD hwmon driver, ``/sys/class/hwmon/hwmon*/name`` = ``amd_energy``):
``energyN_input`` in µJ with ``energyN_label`` = ``Esocket<k>`` per socket (and ``Ecore<nnn>`` per core,
which the socket figure contains). The driver widens the 32-bit MSR counters to 64 bits itself.
"""

from __future__ import annotations

import os
from pathlib import Path

from wattsup.errors import DeviceNotFound, DevicePermissionDenied, DriverNotLoaded
from wattsup.sensors import rapl
from wattsup.sensors.base import CounterAccumulator
from wattsup.sensors.device import EnergyDevice, Identity, Probe, Signal
from wattsup.sensors.sysfs import grant_hint, read_number, read_text, sysfs_root

CPU_MAX_W = 2000.0
"""Plausibility limit for one zone's power when judging a counter wrap (more than any CPU package draws)."""
VENDORS = {"GenuineIntel": "Intel", "AuthenticAMD": "AMD", "HygonGenuine": "Hygon"}


def cpu_vendor(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """``Intel``, ``AMD``, ``Hygon`` or ``unknown`` from ``/proc/cpuinfo``'s ``vendor_id``."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("vendor_id"):
                return VENDORS.get(line.split(":", 1)[1].strip(), "unknown")
    except OSError:
        pass
    return "unknown"


class RaplGroup(EnergyDevice):
    """The RAPL zones of one kind (all package zones, or all DRAM zones), summed, as ``cpu`` or ``dram``."""

    def __init__(self, zones: list[rapl.RaplZone], vendor: str) -> None:
        self.zones = zones
        comp = zones[0].component
        ranges = {z.max_range_uj for z in zones}
        names = ", ".join(z.path.name for z in zones)
        scope = "package" if comp == "cpu" else "DRAM"
        detail = f"RAPL {scope} counter ({vendor}), {len(zones)} zone(s): {names}"
        if comp == "cpu" and vendor in ("AMD", "Hygon"):
            detail += "; AMD parts have no RAPL DRAM domain: memory is modelled"
        super().__init__(
            Identity(comp, vendor, f"{vendor} CPU {scope}", "rapl"),
            Signal(
                "energy_counter",
                unit_j=1e-6,
                wrap_range_raw=float(ranges.pop()) if len(ranges) == 1 else None,
                refresh_s=0.001,
            ),
            "counter",
            detail,
            CPU_MAX_W,
        )
        self._ranges = [float(z.max_range_uj) for z in zones]

    def _read_counter_raws(self) -> tuple[float, ...]:
        return tuple(read_number(z.path / "energy_uj", self.component) for z in self.zones)

    def _accumulators(self, n: int) -> list[CounterAccumulator]:
        # zones may wrap at different ranges: each accumulator gets its zone's own range
        return [CounterAccumulator(1e-6, r, self.max_power_w) for r in self._ranges]


def discover_rapl(root: Path | str | None = None, cpuinfo: Path = Path("/proc/cpuinfo")) -> Probe:
    """RAPL package (``cpu``) and DRAM (``dram``) devices, labelled with the CPU vendor."""
    explicit = root is not None or "WATTSUP_SYSFS_ROOT" in os.environ
    # without an explicit sysfs root, rapl.discover honours $WATTSUP_POWERCAP_ROOT as before
    zones = rapl.discover(sysfs_root(root) / "class" / "powercap" if explicit else None)
    vendor = cpu_vendor(cpuinfo)
    out = Probe()
    for comp in ("cpu", "dram"):
        group = [z for z in zones if z.component == comp]
        if group:
            out.devices.append(RaplGroup(group, vendor))
    return out


class AmdEnergySockets(EnergyDevice):
    """The ``Esocket`` counters of the ``amd_energy`` hwmon driver, summed over sockets, as ``cpu``."""

    def __init__(self, files: list[Path], hwmon: Path) -> None:
        self.files = files
        super().__init__(
            Identity("cpu", "AMD", "AMD CPU sockets", "amd_energy"),
            Signal("energy_counter", unit_j=1e-6, width_bits=64),
            "counter",
            f"amd_energy socket counters ({len(files)} socket(s), {hwmon.name}); "
            "no DRAM counter on AMD: memory is modelled",
            CPU_MAX_W,
        )

    def _read_counter_raws(self) -> tuple[float, ...]:
        return tuple(read_number(f, self.component) for f in self.files)


def discover_amd_energy(root: Path | str | None = None) -> Probe:
    """The ``amd_energy`` driver's socket counters, or a typed error saying why there are none."""
    hwmon_root = sysfs_root(root) / "class" / "hwmon"
    if not hwmon_root.is_dir():
        raise DriverNotLoaded(f"no hwmon tree at {hwmon_root}: not Linux, or no hardware monitoring here")
    for hw in sorted(hwmon_root.glob("hwmon*")):
        try:
            if (hw / "name").read_text().strip() != "amd_energy":
                continue
        except OSError:
            continue
        sockets: list[Path] = []
        for label in sorted(hw.glob("energy*_label")):
            text = read_text(label, "cpu")
            if text.startswith("Esocket"):
                sockets.append(hw / label.name.replace("_label", "_input"))
        if not sockets:
            raise DeviceNotFound(f"amd_energy at {hw} lists no Esocket counter")
        for f in sockets:
            try:
                f.read_text()
            except PermissionError as e:
                raise DevicePermissionDenied(
                    f"amd_energy counters exist but cannot be read: {grant_hint(hw / 'energy*_input')}"
                ) from e
        return Probe(devices=[AmdEnergySockets(sockets, hw)])
    raise DriverNotLoaded(
        "the amd_energy driver is not loaded (out-of-tree on kernels 5.13 and newer: "
        "https://github.com/amd/amd_energy); RAPL powercap gives the same package counter"
    )
