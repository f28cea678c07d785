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


def kg(value: float | None) -> str:
    """kgCO2e for people: tonnes, kilograms or grams."""
    if value is None or _missing(value):
        return UNKNOWN
    if abs(value) >= 1000:
        return f"{value / 1000:,.2f} t"
    if abs(value) >= 1:
        return f"{value:,.2f} kg"
    return f"{value * 1000:,.3g} g"


def litres(value: float | None) -> str:
    """Water for people: cubic metres, litres or millilitres."""
    if value is None or _missing(value):
        return UNKNOWN
    if abs(value) >= 1000:
        return f"{value / 1000:,.2f} m³"
    if abs(value) >= 1:
        return f"{value:,.2f} L"
    return f"{value * 1000:,.3g} mL"


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
