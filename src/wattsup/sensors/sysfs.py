"""Reading Linux sysfs attributes with typed errors, and where the sysfs tree is.

Every sysfs-based device (RAPL, ``amd_energy``, Intel ``i915``/``xe`` hwmon, Jetson INA3221, AWS Neuron)
reads its files through :func:`read_text`: a missing file (the device went away) is
:class:`DeviceLost`, a denied read :class:`DevicePermissionDenied` with the command that grants access.
"""

from __future__ import annotations

import os
from pathlib import Path

from wattsup.errors import DeviceLost, DevicePermissionDenied, SensorUnavailable


def sysfs_root(root: Path | str | None = None) -> Path:
    """The sysfs mount: ``root``, else ``$WATTSUP_SYSFS_ROOT`` (tests, containers), else ``/sys``."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get("WATTSUP_SYSFS_ROOT", "/sys"))


def grant_hint(path: Path) -> str:
    return f"grant read access with 'sudo chmod a+r {path}' (until reboot), or run as root"


def read_text(path: Path, component: str) -> str:
    """The stripped contents of a sysfs attribute, or a typed error naming ``component``."""
    try:
        return path.read_text().strip()
    except PermissionError as e:
        raise DevicePermissionDenied(f"{component}: cannot read {path}: {grant_hint(path)}") from e
    except FileNotFoundError as e:
        raise DeviceLost(f"{component}: {path} is gone: the device or its driver went away") from e
    except OSError as e:  # EIO, ENODATA: the driver could not talk to the device
        raise SensorUnavailable(f"{component}: reading {path} failed ({e.strerror or e})") from e


def read_number(path: Path, component: str) -> float:
    text = read_text(path, component)
    try:
        return float(text)
    except ValueError:
        raise SensorUnavailable(f"{component}: {path} holds {text!r}, not a number") from None
