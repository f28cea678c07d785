"""Fake Linux powercap trees (``/sys/class/powercap``) in a temp dir.

The layout is the flat one of ``/sys/class/powercap``: ``intel-rapl`` (the control type), packages
``intel-rapl:N`` named ``package-N``, their subzones ``intel-rapl:N:M`` (``core``, ``dram``), and the
MMIO duplicate ``intel-rapl-mmio:0`` that newer kernels add (it must not be counted twice).
"""

from __future__ import annotations

import pathlib
from pathlib import Path

import pytest

# A Cascade Lake package zone's range (2^32 energy units of 61 µJ).
PACKAGE_RANGE_UJ = 262_143_328_850
DRAM_RANGE_UJ = 65_712_999_613


class PowercapTree:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "intel-rapl").mkdir(exist_ok=True)
        (root / "intel-rapl" / "enabled").write_text("1\n")

    def zone(self, dirname: str, name: str, energy_uj: int = 0, max_range_uj: int = PACKAGE_RANGE_UJ) -> Path:
        """Creates (or rewrites) a zone directory with its ``name``, ``energy_uj`` and range files."""
        d = self.root / dirname
        d.mkdir(exist_ok=True)
        (d / "name").write_text(name + "\n")
        (d / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
        (d / "enabled").write_text("1\n")
        self.set(dirname, energy_uj)
        return d

    def set(self, dirname: str, energy_uj: int) -> None:
        (self.root / dirname / "energy_uj").write_text(f"{energy_uj}\n")

    def energy_file(self, dirname: str) -> Path:
        return self.root / dirname / "energy_uj"


def server_tree(
    root: Path,
    sockets: int = 2,
    dram: bool = True,
    package_range_uj: int = PACKAGE_RANGE_UJ,
    dram_range_uj: int = DRAM_RANGE_UJ,
) -> PowercapTree:
    """A multi-socket server: per socket a package zone, a ``core`` subzone and (optionally) ``dram``."""
    tree = PowercapTree(root)
    for s in range(sockets):
        tree.zone(f"intel-rapl:{s}", f"package-{s}", 1_000_000 * (s + 1), package_range_uj)
        tree.zone(f"intel-rapl:{s}:0", "core", 500_000 * (s + 1), package_range_uj)
        if dram:
            tree.zone(f"intel-rapl:{s}:1", "dram", 100_000 * (s + 1), dram_range_uj)
    tree.zone("intel-rapl-mmio:0", "package-0", 42, package_range_uj)
    return tree


def deny_reads(monkeypatch: pytest.MonkeyPatch, *files: Path) -> None:
    """Reading these files raises PermissionError, as ``energy_uj`` does for non-root users since Linux 5.10.

    ``chmod 000`` does not stop root, and the tests may run as root, so ``Path.read_text`` is patched."""
    denied = {str(f) for f in files}
    real = pathlib.Path.read_text

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        if str(self) in denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pathlib.Path, "read_text", read_text)
