"""Intel discrete GPUs (Data Center GPU Max, Flex, Arc) through the ``i915``/``xe`` drivers' hwmon files.

No extra library: the kernel exposes ``/sys/class/hwmon/hwmon<i>/`` with ``name`` = ``i915`` or ``xe``
and a ``device`` link to the PCI function. ``energy1_input`` is the card's cumulative energy in µJ (i915:
"energy input of device"; xe: ``energy1_input`` is the card, ``energy2_input`` the package where the
card one is missing). The hardware register is 32 bits; the driver widens it to 64 bits and accounts
for one wrap between reads, so a decrease here is a reset (driver reload). ``power1_rated_max`` (µW) is
the card's TDP where the driver knows it, ``power1_max`` the sustained (PL1) limit.

Integrated GPUs have no hwmon energy file: their energy is inside the CPU package's RAPL figure.
"""

from __future__ import annotations

from pathlib import Path

from wattsup.errors import DeviceNotFound, DevicePermissionDenied, DriverNotLoaded, SensorUnavailable
from wattsup.sensors.device import EnergyDevice, Identity, Probe, Signal
from wattsup.sensors.sysfs import read_number, sysfs_root

DRIVERS = ("i915", "xe")
DEFAULT_MAX_W = 1000.0
"""Plausibility limit where the driver gives no power limit (above the 600 W of a Max 1550)."""


def _uevent(device: Path) -> dict[str, str]:
    try:
        lines = (device / "uevent").read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _optional_w(path: Path) -> float | None:
    try:
        v = float(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return v / 1e6 if v > 0 else None


class IntelGpu(EnergyDevice):
    def __init__(self, hwmon: Path, energy_file: Path, driver: str, index: int, scope: str) -> None:
        self.energy_file = energy_file
        ue = _uevent(hwmon / "device")
        slot = ue.get("PCI_SLOT_NAME", hwmon.name)
        pci_id = ue.get("PCI_ID", "")
        name = f"Intel GPU {pci_id}".strip() + f" at {slot}"
        limit = _optional_w(hwmon / "power1_rated_max") or _optional_w(hwmon / "power1_max")
        super().__init__(
            Identity(f"gpu:{index}", "Intel", name, driver, index, slot),
            Signal("energy_counter", unit_j=1e-6, width_bits=64),
            "counter",
            f"{name}: {driver} hwmon {energy_file.name} ({scope} energy, µJ)",
            (limit or DEFAULT_MAX_W) * 1.5,
        )
        if limit is not None:
            self.extra["power_limit_w"] = f"{limit:g}"

    def _read_counter_raw(self) -> float:
        return read_number(self.energy_file, self.component)


def _energy_file(hw: Path, driver: str) -> tuple[Path, str] | None:
    """The card-level energy file of one hwmon directory (xe labels its channels ``card``/``pkg``)."""
    labelled: dict[str, Path] = {}
    for label in sorted(hw.glob("energy*_label")):
        try:
            labelled[label.read_text().strip()] = hw / label.name.replace("_label", "_input")
        except OSError:
            continue
    for want in ("card", "pkg"):
        if want in labelled and labelled[want].exists():
            return labelled[want], "card" if want == "card" else "package"
    if (hw / "energy1_input").exists():
        return hw / "energy1_input", "card" if driver == "i915" else "card or package"
    return None


def discover(root: Path | str | None = None, first_index: int = 0) -> Probe:
    """Every Intel GPU whose driver exposes an energy counter, numbered from ``first_index`` in PCI order."""
    hwmon_root = sysfs_root(root) / "class" / "hwmon"
    if not hwmon_root.is_dir():
        raise DriverNotLoaded(f"no hwmon tree at {hwmon_root}: not Linux, or no hardware monitoring here")
    found: list[tuple[str, Path, str]] = []
    without: list[str] = []
    for hw in sorted(hwmon_root.glob("hwmon*")):
        try:
            driver = (hw / "name").read_text().strip()
        except OSError:
            continue
        if driver not in DRIVERS:
            continue
        slot = _uevent(hw / "device").get("PCI_SLOT_NAME", hw.name)
        picked = _energy_file(hw, driver)
        if picked is None:
            without.append(f"{driver} at {slot}")
            continue
        found.append((slot, hw, driver))
    if not found:
        if without:
            raise DeviceNotFound(
                f"Intel GPU driver(s) present ({', '.join(without)}) but no hwmon energy counter: an "
                "integrated GPU (its energy is in the CPU package's RAPL figure) or a kernel older than "
                "5.14 (i915) / 6.5 (xe)"
            )
        raise DriverNotLoaded(
            "no i915 or xe hwmon device: no Intel discrete GPU, or its driver is not loaded"
        )
    out = Probe()
    for k, (_, hw, driver) in enumerate(sorted(found)):
        picked = _energy_file(hw, driver)
        assert picked is not None
        energy_file, scope = picked
        comp = f"gpu:{first_index + k}"
        try:
            read_number(energy_file, comp)
        except DevicePermissionDenied:
            raise  # the same for every GPU: the source is unusable until access is granted
        except SensorUnavailable as e:
            out.problems.append((comp, e))
            continue
        out.devices.append(IntelGpu(hw, energy_file, driver, first_index + k, scope))
    return out
