"""AWS Inferentia and Trainium through the Neuron driver's sysfs tree (no extra library).

``/sys/devices/virtual/neuron_device/neuron<i>/stats/power/utilization`` holds
``<status>,<timestamp>,<min>,<max>,<avg>``: the device's power over the last period as percentages of
its maximum (TDP), refreshed every 60 s by the driver; ``status`` is ``POWER_STATUS_VALID`` when the
figures are usable. ``neuron<i>/info/architecture/device_name`` (or ``instance_type``, ``arch_type``)
names the chip.

This is an estimate, never a measurement: watts = average % × a TDP that AWS does not publish for this
purpose (CodeCarbon's ``core/neuron.py`` uses 75 W for Inferentia and 100 W for Inferentia2, marked there
as approximate), and each value is a 60 s average that arrives up to 60 s late. Method ``modeled``, with
a wide bound. Set ``WATTSUP_NEURON_TDP_W`` to the TDP you trust; Trainium has no default, so it is listed
without a signal until you do.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from wattsup.errors import (
    DeviceNotFound,
    DevicePermissionDenied,
    DriverNotLoaded,
    SensorStuck,
    SensorUnavailable,
)
from wattsup.sensors.device import EnergyDevice, Identity, Probe, Signal
from wattsup.sensors.models import MODELED_RELATIVE_BOUND
from wattsup.sensors.sysfs import read_text, sysfs_root

REFRESH_S = 60.0
STALE_AFTER_S = 3 * REFRESH_S
"""A power file whose timestamp has not changed for three refresh periods is stuck."""
APPROX_TDP_W = {"inferentia": 75.0, "inf1": 75.0, "inferentia2": 100.0, "inf2": 100.0}
TDP_SOURCE = "approximate TDP from CodeCarbon core/neuron.py (not published by AWS)"
VALID = "POWER_STATUS_VALID"


def _chip(dev: Path, component: str) -> str:
    for name in ("device_name", "instance_type", "arch_type"):
        f = dev / "info" / "architecture" / name
        if f.exists():
            return read_text(f, component)
    return "unknown Neuron device"


def tdp_override() -> float | None:
    v = os.environ.get("WATTSUP_NEURON_TDP_W")
    if not v:
        return None
    try:
        w = float(v)
    except ValueError:
        raise SensorUnavailable(f"WATTSUP_NEURON_TDP_W must be a number of watts, got {v!r}") from None
    if not w > 0:
        raise SensorUnavailable(f"WATTSUP_NEURON_TDP_W must be positive, got {v!r}")
    return w


class NeuronDevice(EnergyDevice):
    def __init__(self, dev: Path, index: int, chip: str, tdp_w: float | None, tdp_source: str) -> None:
        self.power_file = dev / "stats" / "power" / "utilization"
        self.tdp_w = tdp_w
        ident = Identity(f"neuron:{index}", "AWS", chip, "neuron-sysfs", index)
        if tdp_w is None:
            super().__init__(
                ident,
                Signal("none"),
                None,
                f"{chip}: the Neuron driver gives power as % of a TDP that is unknown for this chip; "
                "set WATTSUP_NEURON_TDP_W to measure it (as an estimate)",
                0.0,
            )
            return
        super().__init__(
            ident,
            Signal("power", averaging_window_s=REFRESH_S, refresh_s=REFRESH_S),
            "modeled",
            f"{chip}: estimate, not a measurement: Neuron sysfs average power % (60 s averages, "
            f"refreshed every 60 s) × {tdp_w:g} W ({tdp_source})",
            tdp_w,
            relative_bound=MODELED_RELATIVE_BOUND,
        )
        self._stamp: str | None = None
        self._stamp_seen_at: float | None = None

    def _read_power_w(self) -> float:
        assert self.tdp_w is not None
        text = read_text(self.power_file, self.component)
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 5:
            raise SensorUnavailable(
                f"{self.component}: {self.power_file} holds {text!r}, not "
                "'status,timestamp,min,max,avg': a Neuron driver this version does not know"
            )
        status, stamp, _, _, avg = parts
        if status != VALID:
            raise SensorUnavailable(
                f"{self.component}: the Neuron driver reports {status} (no valid power figure yet: the first "
                "one comes up to 60 s after the device starts); the energy of this period is unknown"
            )
        now = time.monotonic()
        if stamp != self._stamp:
            self._stamp, self._stamp_seen_at = stamp, now
        elif self._stamp_seen_at is not None and now - self._stamp_seen_at > STALE_AFTER_S:
            raise SensorStuck(
                f"{self.component}: the Neuron power figure has not been refreshed for "
                f"{now - self._stamp_seen_at:.0f} s (it should be every 60 s); reload the neuron driver"
            )
        try:
            pct = float(avg)
        except ValueError:
            raise SensorUnavailable(f"{self.component}: average power {avg!r} is not a number") from None
        return pct / 100.0 * self.tdp_w


def discover(root: Path | str | None = None) -> Probe:
    base = sysfs_root(root) / "devices" / "virtual" / "neuron_device"
    if not base.is_dir():
        raise DriverNotLoaded(f"no Neuron driver tree at {base}: not an Inferentia/Trainium instance")
    devs = sorted(
        (d for d in base.glob("neuron[0-9]*") if d.name[6:].isdigit()), key=lambda d: int(d.name[6:])
    )
    if not devs:
        raise DeviceNotFound(f"the Neuron driver is loaded but lists no device under {base}")
    override = tdp_override()
    out = Probe()
    for dev in devs:
        index = int(dev.name[6:])
        comp = f"neuron:{index}"
        chip = _chip(dev, comp)
        tdp: float | None = override if override is not None else APPROX_TDP_W.get(chip.lower())
        source = "TDP from WATTSUP_NEURON_TDP_W" if override is not None else TDP_SOURCE
        device = NeuronDevice(dev, index, chip, tdp, source)
        if device.signal.kind == "none":
            out.unmeasured.append(device)
            continue
        try:
            read_text(device.power_file, comp)
        except DevicePermissionDenied:
            raise  # the same for every device: the source is unusable until access is granted
        except SensorUnavailable as e:
            out.problems.append((comp, e))
            continue
        out.devices.append(device)
    return out
