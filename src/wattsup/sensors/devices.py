"""The device registry: every vendor's source probed, every usable device returned, and for every source
a status (available or not, and why) so ``wattsup doctor`` can list them all.

Probing never raises: a missing library, driver or permission becomes that source's status. No vendor
library is imported until its source is probed, and none is required.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from wattsup.errors import DevicePermissionDenied, SensorUnavailable
from wattsup.sensors import amd, apple, cpu, intel, jetson, neuron, nvidia
from wattsup.sensors.device import EnergyDevice, Probe


@dataclass(frozen=True)
class Source:
    name: str
    vendor: str
    signal: str
    """What the source reads, for doctor (e.g. ``amdsmi energy accumulator, else socket power``)."""
    probe: Callable[[Path | None], Probe]


def _nvml(root: Path | None) -> Probe:
    return nvidia.discover()


def _amdsmi(root: Path | None) -> Probe:
    return amd.discover()


def _apple(root: Path | None) -> Probe:
    return apple.discover()


def _intel(root: Path | None) -> Probe:
    return intel.discover(root)


def _jetson(root: Path | None) -> Probe:
    return jetson.discover(root)


def _neuron(root: Path | None) -> Probe:
    return neuron.discover(root)


def _rapl(root: Path | None) -> Probe:
    return cpu.discover_rapl(root)


def _amd_energy(root: Path | None) -> Probe:
    return cpu.discover_amd_energy(root)


SOURCES: tuple[Source, ...] = (
    Source("nvml", "NVIDIA", "NVML energy counter, else power", _nvml),
    Source("amdsmi", "AMD", "amdsmi energy accumulator, else socket power", _amdsmi),
    Source("intel-hwmon", "Intel", "i915/xe hwmon energy counter", _intel),
    Source("ioreport", "Apple", "IOReport counters (zeus-apple-silicon), else powermetrics (root)", _apple),
    Source("ina3221", "NVIDIA Jetson", "INA3221 rail power", _jetson),
    Source("neuron-sysfs", "AWS", "Neuron power as % of TDP (an estimate)", _neuron),
    Source("rapl", "CPU (RAPL)", "powercap energy counters", _rapl),
    Source("amd_energy", "AMD CPU", "amd_energy hwmon counters", _amd_energy),
)


@dataclass
class SourceStatus:
    """One vendor source on this machine: available or not, why, and the components it gives."""

    source: str
    vendor: str
    signal: str
    available: bool
    reason: str = ""
    components: list[str] = field(default_factory=list)
    error: str | None = None
    """The typed error's class name where the source is unavailable (``DriverNotLoaded`` ...)."""
    actionable: bool = False
    """The user can fix it (a permission)."""


@dataclass
class Discovery:
    devices: list[EnergyDevice] = field(default_factory=list)
    """Usable devices, one component each, best source first."""
    unmeasured: list[EnergyDevice] = field(default_factory=list)
    """Devices that draw power but report none of their own (``included_in`` says where it is counted)."""
    sources: list[SourceStatus] = field(default_factory=list)
    problems: list[tuple[str, SensorUnavailable]] = field(default_factory=list)
    """Devices a source saw but could not use: (component, typed error)."""

    def close(self) -> None:
        for d in [*self.devices, *self.unmeasured]:
            d.close()


def _unique(dev: EnergyDevice, taken: set[str]) -> EnergyDevice:
    """Renames a component that another vendor's device already uses (two vendors' ``gpu:0``)."""
    if dev.component not in taken:
        return dev
    name = f"{dev.component}:{dev.identity.source}"
    dev.identity = dataclasses.replace(dev.identity, component=name)
    return dev


def discover_devices(sources: Iterable[str] | None = None, sysfs_root: Path | str | None = None) -> Discovery:
    """Probe every source (or the named ones) and return the usable devices with every source's status.

    A source whose devices duplicate components already found (``amd_energy`` after RAPL, both giving
    ``cpu``) is reported available but its duplicates are closed and left out, saying so."""
    wanted = set(sources) if sources is not None else None
    if wanted is not None:
        unknown = wanted - {s.name for s in SOURCES}
        if unknown:
            raise ValueError(
                f"unknown device source(s) {sorted(unknown)}; known: {', '.join(s.name for s in SOURCES)}"
            )
    root = Path(sysfs_root) if sysfs_root is not None else None
    out = Discovery()
    taken: set[str] = set()
    cpu_components: set[str] = set()
    for src in SOURCES:
        if wanted is not None and src.name not in wanted:
            continue
        try:
            probe = src.probe(root)
        except Exception as e:  # a vendor library misbehaving must not break doctor or the meter
            expected = isinstance(e, SensorUnavailable)
            out.sources.append(
                SourceStatus(
                    src.name,
                    src.vendor,
                    src.signal,
                    False,
                    str(e) if expected else f"unexpected {type(e).__name__} while probing: {e}",
                    error=type(e).__name__,
                    actionable=isinstance(e, DevicePermissionDenied),
                )
            )
            continue
        comps: list[str] = []
        notes: list[str] = []
        for found in probe.devices:
            if src.name == "amd_energy" and found.component in cpu_components:
                notes.append(f"{found.component} not used: RAPL already measures it")
                found.close()
                continue
            dev = _unique(found, taken)
            taken.add(dev.component)
            if src.name == "rapl":
                cpu_components.add(dev.component)
            out.devices.append(dev)
            comps.append(dev.component)
        for dev in probe.unmeasured:
            out.unmeasured.append(dev)
            notes.append(f"{dev.component}: {dev.detail}")
        out.problems.extend(probe.problems)
        notes += [f"{c}: {e}" for c, e in probe.problems]
        available = bool(comps) or bool(probe.unmeasured)
        reason = "; ".join(notes) if notes else f"{len(comps)} device(s): {', '.join(comps)}"
        out.sources.append(SourceStatus(src.name, src.vendor, src.signal, available, reason, comps))
    return out
