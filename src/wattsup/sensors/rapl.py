"""CPU package and DRAM energy through Linux powercap RAPL (``/sys/class/powercap``).

Zones ``intel-rapl:N`` are packages (one per socket); their child ``intel-rapl:N:M`` named ``dram`` is
that socket's memory. AMD parts expose the same ``intel-rapl`` zones (package only). ``energy_uj`` is
microjoules and wraps at ``max_energy_range_uj``; since Linux 5.10 it is readable by root only
(CVE-2020-8694), so a permission error says how to grant read access and the meter falls back to the
CPU model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wattsup.errors import DeviceNotFound, DevicePermissionDenied, DriverNotLoaded

DEFAULT_ROOT = Path("/sys/class/powercap")
GRANT_HINT = (
    "RAPL is readable by root only since Linux 5.10; grant read access with "
    "'sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj "
    "/sys/class/powercap/intel-rapl:*:*/energy_uj' "
    "(until reboot), or run as root"
)


@dataclass(frozen=True)
class RaplZone:
    """One readable RAPL zone: ``kind`` is ``package`` or ``dram``, ``socket`` its package index."""

    path: Path
    kind: str
    socket: int
    max_range_uj: int

    @property
    def component(self) -> str:
        return "cpu" if self.kind == "package" else "dram"

    def read_uj(self) -> int:
        return int((self.path / "energy_uj").read_text().strip())


def _read(p: Path) -> str:
    return p.read_text().strip()


def discover(root: Path | str | None = None) -> list[RaplZone]:
    """Readable package and DRAM zones under ``root`` (default ``/sys/class/powercap``), sorted.

    Raises a :class:`~wattsup.errors.SensorUnavailable` saying why when there are none:
    :class:`DriverNotLoaded` (no powercap tree: a VM, a non-Linux OS, a kernel without the driver),
    :class:`DevicePermissionDenied` (zones that exist but cannot be read) or :class:`DeviceNotFound`.
    """
    base = Path(root) if root is not None else Path(os.environ.get("WATTSUP_POWERCAP_ROOT", DEFAULT_ROOT))
    if not base.is_dir():
        raise DriverNotLoaded(
            f"no powercap tree at {base}: not Linux, a VM, or the RAPL driver is not loaded"
        )
    zones: list[RaplZone] = []
    denied: list[str] = []
    for pkg in sorted(base.glob("intel-rapl:*")):
        parts = pkg.name.split(":")
        if len(parts) != 2 or not parts[1].isdigit():
            continue
        try:
            name = _read(pkg / "name")
        except OSError:
            continue
        if not name.startswith("package"):  # psys: the whole platform, which includes the packages
            continue
        suffix = name.rpartition("-")[2]
        socket = int(suffix) if suffix.isdigit() else int(parts[1])
        candidates = [(pkg, "package")]
        for child in sorted(pkg.parent.glob(f"{pkg.name}:*")):
            try:
                if _read(child / "name") == "dram":
                    candidates.append((child, "dram"))
            except OSError:
                continue
        for path, kind in candidates:
            try:
                max_range = int(_read(path / "max_energy_range_uj"))
                int(_read(path / "energy_uj"))
            except PermissionError:
                denied.append(str(path / "energy_uj"))
                continue
            except (OSError, ValueError):
                continue
            zones.append(RaplZone(path, kind, socket, max_range))
    if not zones:
        if denied:
            raise DevicePermissionDenied(
                f"RAPL zones exist but cannot be read ({', '.join(denied)}): {GRANT_HINT}"
            )
        raise DeviceNotFound(f"no RAPL package zones under {base}: the CPU exposes no energy counter here")
    return sorted(zones, key=lambda z: (z.socket, z.kind))
