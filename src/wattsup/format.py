"""Numbers for people: the one formatter every surface uses (CLI tables, the report, the Markdown summary,
the dashboard's pages and figures, the energy label).

Every function takes ``None`` (or NaN) for a figure that is not known and returns ``unknown``: a missing
figure is never printed as 0. SI values come in; the unit people read comes out.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

UNKNOWN = "unknown"


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float | None, digits: int = 3) -> str:
    """``digits`` significant digits; thousands separators from 10,000 up."""
    if value is None or _missing(value):
        return UNKNOWN
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def sig(value: float | None, fmt: str = ".4g") -> str:
    """``value`` in a format spec (``.4g`` by default), ``unknown`` for ``None``."""
    if value is None or _missing(value):
        return UNKNOWN
    return format(value, fmt)


def kwh(value: float | None) -> str:
    """kWh with four significant digits (scientific outside 0.001–100,000)."""
    if value is None or _missing(value):
        return UNKNOWN
    if value == 0:
        return "0"
    return f"{value:.4g}" if 1e-3 <= abs(value) < 1e5 else f"{value:.3e}"


def energy(kwh_value: float | None, unit: str = "kWh") -> tuple[str, str]:
    """(number, unit) with three significant digits, switching ``kWh`` to ``Wh`` below 1 kWh."""
    if kwh_value is None or _missing(kwh_value):
        return UNKNOWN, unit
    if kwh_value >= 1:
        return f"{kwh_value:.3g}", unit
    return f"{kwh_value * 1000:.3g}", unit.replace("kWh", "Wh")


def params(n: int | None) -> str:
    """A parameter count as people write it: 135M, 6.7B."""
    if n is None:
        return UNKNOWN
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.3g}{suffix}"
    return str(n)


def _by_thousands(value: float | None, units: tuple[str, str, str]) -> str:
    """``value`` in the largest of three units a thousand apart (``units``: large, given, small) that
    keeps it at least 1: two decimals, or three significant digits in the small unit."""
    if value is None or _missing(value):
        return UNKNOWN
    large, given, small = units
    if abs(value) >= 1000:
        return f"{value / 1000:,.2f} {large}"
    if abs(value) >= 1:
        return f"{value:,.2f} {given}"
    return f"{value * 1000:,.3g} {small}"


def kg(value: float | None) -> str:
    """kgCO2e for people: tonnes, kilograms or grams."""
    return _by_thousands(value, ("t", "kg", "g"))


def litres(value: float | None) -> str:
    """Water for people: cubic metres, litres or millilitres."""
    return _by_thousands(value, ("m³", "L", "mL"))


def when(value: datetime | str | None) -> str:
    """A time in UTC to the minute (stored times are UTC; a naive one is taken as UTC)."""
    if value is None:
        return UNKNOWN
    moment: datetime
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        moment = value
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
