"""Typed errors. Each carries a message that says what to do, so the CLI can print it without a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class WattsupError(Exception):
    """Base of every error wattsup raises on purpose. ``str(err)`` is meant for people."""

    exit_code = 1


class InvalidInput(WattsupError, ValueError):
    """A value given by the user is out of range or malformed. ``field`` names the flag or key."""

    exit_code = 2

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class NotFound(WattsupError, LookupError):
    """A named thing (region, hardware, task, model, dataset) is unknown; lists the closest matches."""

    exit_code = 2

    def __init__(self, kind: str, name: str, choices: Iterable[str], hint: str = "") -> None:
        self.kind = kind
        self.name = name
        self.suggestions = closest(name, choices)
        msg = f"unknown {kind} {shorten(name)}"
        if self.suggestions:
            msg += "; did you mean " + ", ".join(repr(s) for s in self.suggestions) + "?"
        if hint:
            msg += f" {hint}"
        super().__init__(msg)


class SensorUnavailable(WattsupError):
    """A sensor cannot be used here. The message says why (no driver, VM, permission) and what to do."""


class DeviceNotFound(SensorUnavailable):
    """No device of this kind here, or the one asked for does not exist."""


class DevicePermissionDenied(SensorUnavailable):
    """The device exists but this user may not read it; the message says how to grant access."""


class DeviceNotSupported(SensorUnavailable):
    """The device exists but offers no usable energy or power signal (or not the one asked for)."""


class DriverNotLoaded(SensorUnavailable):
    """The vendor's driver or management library is missing or not loaded."""


class DeviceLost(SensorUnavailable):
    """A device that was being read went away (fell off the bus, driver reset): its figure stops there."""


class SensorStuck(SensorUnavailable):
    """An energy counter stopped moving while its device is powered: readings since then are not energy."""


def shorten(name: str, most: int = 120) -> str:
    """``repr(name)``, cut to ``most`` characters with the full length said (a 5,000-character name is
    not repeated back in full)."""
    if len(name) <= most:
        return repr(name)
    return f"{name[:most]!r}… ({len(name):,} characters)"


def closest(name: str, choices: Iterable[str], n: int = 5) -> list[str]:
    """The choices closest to ``name``: case-insensitive fuzzy matches, then substring matches."""
    pool = list(dict.fromkeys(choices))
    name = name[:500]  # no choice is longer; fuzzy matching a huge name would only cost time
    lowered = {c.lower(): c for c in pool}
    found = [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.6)]
    needle = name.lower()
    for c in pool:
        if len(found) >= n:
            break
        if c not in found and needle and (needle in c.lower() or c.lower() in needle):
            found.append(c)
    return found


def finite_number(
    field: str,
    value: float,
    *,
    minimum: float | None = None,
    strict_min: bool = False,
    maximum: float | None = None,
) -> float:
    """Check that ``value`` is a finite number within bounds; else :class:`InvalidInput` naming ``field``."""
    import math

    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(field, f"expected a number, got {value!r}") from None
    if math.isnan(v) or math.isinf(v):
        raise InvalidInput(field, f"must be a finite number, got {value!r}")
    if minimum is not None:
        if strict_min and v <= minimum:
            raise InvalidInput(field, f"must be greater than {minimum:g}, got {v:g}")
        if not strict_min and v < minimum:
            raise InvalidInput(field, f"must be at least {minimum:g}, got {v:g}")
    if maximum is not None and v > maximum:
        raise InvalidInput(field, f"must be at most {maximum:g}, got {v:g}")
    return v
