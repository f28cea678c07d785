"""RAPL through powercap: discovery on fake trees, permission errors, and the tracks' wrap/reset handling."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.powercap import DRAM_RANGE_UJ, PACKAGE_RANGE_UJ, PowercapTree, deny_reads, server_tree
from tests.fakes.timed import inner
from wattsup.errors import SensorUnavailable
from wattsup.meter import sources
from wattsup.meter.timeline import PolledEnergyTrack
from wattsup.sensors import rapl

# --------------------------------------------------------------------------- discovery


def test_two_sockets_with_dram(tmp_path: Path) -> None:
    server_tree(tmp_path)
    zones = rapl.discover(tmp_path)
    assert [(z.socket, z.kind, z.path.name) for z in zones] == [
        (0, "dram", "intel-rapl:0:1"),
        (0, "package", "intel-rapl:0"),
        (1, "dram", "intel-rapl:1:1"),
        (1, "package", "intel-rapl:1"),
    ]
    assert [z.component for z in zones] == ["dram", "cpu", "dram", "cpu"]
    assert {z.max_range_uj for z in zones if z.kind == "package"} == {PACKAGE_RANGE_UJ}
    assert {z.max_range_uj for z in zones if z.kind == "dram"} == {DRAM_RANGE_UJ}
    # core subzones (part of the package) and the MMIO duplicate of package-0 are not counted
    assert not any(z.path.name.startswith("intel-rapl-mmio") for z in zones)
    assert zones[1].read_uj() == 1_000_000
    assert zones[3].read_uj() == 2_000_000


def test_package_only_parts(tmp_path: Path) -> None:
    """AMD parts (and client CPUs) expose packages without a DRAM zone."""
    server_tree(tmp_path, sockets=1, dram=False)
    zones = rapl.discover(tmp_path)
    assert [(z.socket, z.kind) for z in zones] == [(0, "package")]


def test_root_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server_tree(tmp_path / "pc", sockets=1)
    monkeypatch.setenv("WATTSUP_POWERCAP_ROOT", str(tmp_path / "pc"))
    assert len(rapl.discover()) == 2
    assert len(rapl.discover(str(tmp_path / "pc"))) == 2


def test_no_powercap_tree(tmp_path: Path) -> None:
    with pytest.raises(SensorUnavailable, match="no powercap tree"):
        rapl.discover(tmp_path / "missing")


def test_tree_without_rapl_zones(tmp_path: Path) -> None:
    PowercapTree(tmp_path)  # the control type only
    with pytest.raises(SensorUnavailable, match="no RAPL package zones"):
        rapl.discover(tmp_path)


def test_unreadable_zones_say_how_to_grant_access(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = server_tree(tmp_path)
    files = [
        tree.energy_file(d) for d in ("intel-rapl:0", "intel-rapl:0:1", "intel-rapl:1", "intel-rapl:1:1")
    ]
    deny_reads(monkeypatch, *files)
    with pytest.raises(SensorUnavailable) as info:
        rapl.discover(tmp_path)
    msg = str(info.value)
    assert rapl.GRANT_HINT in msg
    assert "sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj" in msg
    assert all(str(f) in msg for f in files)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode"
)
def test_chmod_000_energy_file(tmp_path: Path) -> None:
    tree = server_tree(tmp_path, sockets=1, dram=False)
    tree.energy_file("intel-rapl:0").chmod(0)
    try:
        with pytest.raises(SensorUnavailable, match="chmod a\\+r"):
            rapl.discover(tmp_path)
    finally:
        tree.energy_file("intel-rapl:0").chmod(0o644)


def test_unreadable_dram_leaves_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = server_tree(tmp_path, sockets=1)
    deny_reads(monkeypatch, tree.energy_file("intel-rapl:0:1"))
    assert [z.kind for z in rapl.discover(tmp_path)] == ["package"]


def test_broken_zones_are_skipped(tmp_path: Path) -> None:
    tree = server_tree(tmp_path, sockets=2)
    tree.set("intel-rapl:1", "garbage")  # type: ignore[arg-type]
    (tmp_path / "intel-rapl:0:1" / "name").unlink()  # a subzone whose name cannot be read
    zones = rapl.discover(tmp_path)
    assert [(z.socket, z.kind) for z in zones] == [(0, "package"), (1, "dram")]


def test_odd_zone_names_are_ignored(tmp_path: Path) -> None:
    tree = server_tree(tmp_path, sockets=1, dram=False)
    tree.zone("intel-rapl:x", "package-x")
    tree.zone("intel-rapl:0:x", "core")
    assert [z.path.name for z in rapl.discover(tmp_path)] == ["intel-rapl:0"]


def test_psys_zone_is_not_a_package(tmp_path: Path) -> None:
    tree = server_tree(tmp_path, sockets=1, dram=False)
    tree.zone("intel-rapl:1", "psys", 5_000_000)
    assert [(z.socket, z.kind, z.path.name) for z in rapl.discover(tmp_path)] == [
        (0, "package", "intel-rapl:0")
    ]


# --------------------------------------------------------------------------- tracks: sums, wraps, resets


def test_tracks_sum_the_sockets(tmp_path: Path) -> None:
    tree = server_tree(tmp_path)
    found = sources.discover(gpu=False, powercap_root=str(tmp_path))
    tracks = {t.name: inner(t) for t in found.tracks}
    assert set(tracks) == {"cpu", "dram"}  # DRAM measured: no RAM model
    cpu, dram = tracks["cpu"], tracks["dram"]
    assert isinstance(cpu, PolledEnergyTrack) and isinstance(dram, PolledEnergyTrack)
    assert cpu.method == dram.method == "counter"
    assert "intel-rapl:0, intel-rapl:1" in cpu.detail and "2 zone(s)" in cpu.detail
    assert [(s.component, s.source, s.available) for s in found.statuses] == [
        ("cpu", "rapl", True),
        ("dram", "rapl", True),
    ]
    assert cpu.read_j(0.0) == 0.0  # the first reading is the origin
    tree.set("intel-rapl:0", 1_000_000 + 40_000_000)
    tree.set("intel-rapl:1", 2_000_000 + 60_000_000)
    tree.set("intel-rapl:0:1", 100_000 + 1_500_000)
    tree.set("intel-rapl:1:1", 200_000 + 2_500_000)
    assert cpu.read_j(1.0) == pytest.approx(100.0)
    assert dram.read_j(0.0) == 0.0
    tree.set("intel-rapl:0:1", 100_000 + 1_500_000 + 4_000_000)
    assert dram.read_j(1.0) == pytest.approx(4.0)


def test_package_counter_wraps(tmp_path: Path) -> None:
    tree = server_tree(tmp_path, sockets=1, dram=False)
    cpu = inner(sources.discover(gpu=False, ram=False, powercap_root=str(tmp_path)).tracks[0])
    tree.set("intel-rapl:0", PACKAGE_RANGE_UJ - 30_000_000)
    assert isinstance(cpu, PolledEnergyTrack)
    base = cpu.read_j(10.0)
    tree.set("intel-rapl:0", 20_000_000)  # 50 J in 0.25 s: past the range, one wrap
    assert cpu.read_j(10.25) - base == pytest.approx(50.0)
    tree.set("intel-rapl:0", 70_000_000)
    assert cpu.read_j(10.5) - base == pytest.approx(100.0)


def test_counter_reset_counts_from_zero(tmp_path: Path) -> None:
    """A zone whose counter restarts (driver reload): the new value is the energy since the reset."""
    tree = server_tree(tmp_path, sockets=1, dram=False)
    cpu = inner(sources.discover(gpu=False, ram=False, powercap_root=str(tmp_path)).tracks[0])
    assert isinstance(cpu, PolledEnergyTrack)
    tree.set("intel-rapl:0", 150_000_000_000)
    cpu.read_j(0.0)
    tree.set("intel-rapl:0", 150_010_000_000)
    assert cpu.read_j(0.1) == pytest.approx(10.0)
    tree.set("intel-rapl:0", 3_000_000)  # a wrap would mean ~112 kJ in 0.1 s: a reset
    assert cpu.read_j(0.2) == pytest.approx(13.0)
    tree.set("intel-rapl:0", 9_000_000)
    assert cpu.read_j(0.3) == pytest.approx(19.0)


def test_failing_zone_read_raises_at_poll(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zone that becomes unreadable after discovery makes the sensor's own track raise at poll (its guard
    then fills from the CPU model: tests/meter/test_faults.py)."""
    tree = server_tree(tmp_path, sockets=1, dram=False)
    cpu = inner(sources.discover(gpu=False, ram=False, powercap_root=str(tmp_path)).tracks[0])
    assert isinstance(cpu, PolledEnergyTrack)
    cpu.poll(0.0)
    deny_reads(monkeypatch, tree.energy_file("intel-rapl:0"))
    with pytest.raises(PermissionError):
        cpu.poll(0.0)
