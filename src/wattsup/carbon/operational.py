"""Operational carbon: energy x PUE x grid intensity, location-based and market-based side by side."""

from __future__ import annotations

from collections.abc import Sequence

from wattsup.errors import InvalidInput, finite_number
from wattsup.meter.measurement import JOULES_PER_KWH, Measurement

GRAMS_PER_KG = 1000.0


def operational_kg(energy_kwh: float, intensity_g_per_kwh: float, pue: float = 1.0) -> float:
    """``C_op = E_IT x PUE x CI`` in kgCO2e (kWh x - x gCO2e/kWh / 1000)."""
    e = finite_number("--energy-kwh", energy_kwh, minimum=0)
    ci = finite_number("--intensity", intensity_g_per_kwh, minimum=0)
    p = finite_number("--pue", pue, minimum=1.0)
    return e * p * ci / GRAMS_PER_KG


def market_intensity(
    location_g_per_kwh: float,
    *,
    cfe_fraction: float | None = None,
    contractual_g_per_kwh: float | None = None,
) -> float | None:
    """The market-based intensity: a contractual emission factor if given, else the location-based
    intensity scaled by the share not covered by carbon-free energy. ``None`` when neither is known:
    the market-based figure is then unknown (it is never assumed to equal the location-based one)."""
    if contractual_g_per_kwh is not None:
        return finite_number("--market-intensity", contractual_g_per_kwh, minimum=0)
    if cfe_fraction is not None:
        cfe = finite_number("--cfe", cfe_fraction, minimum=0, maximum=1)
        return finite_number("--intensity", location_g_per_kwh, minimum=0) * (1.0 - cfe)
    return None


def hourly_operational_kg(
    energy_kwh_by_hour: Sequence[float], intensity_g_per_kwh_by_hour: Sequence[float], pue: float = 1.0
) -> float:
    """``sum_h E_h x PUE x CI_h``: energy and intensity for the same hours, in order."""
    if len(energy_kwh_by_hour) != len(intensity_g_per_kwh_by_hour):
        raise InvalidInput(
            "--profile",
            f"{len(energy_kwh_by_hour)} hours of energy but {len(intensity_g_per_kwh_by_hour)} of intensity",
        )
    return sum(
        operational_kg(e, ci, pue)
        for e, ci in zip(energy_kwh_by_hour, intensity_g_per_kwh_by_hour, strict=True)
    )


def measurement_energy_kwh(measurement: Measurement) -> float:
    """Total energy of a metered window, in kWh."""
    return measurement.total_energy_j / JOULES_PER_KWH


MAX_IDLE_SHARE = 0.99


def check_idle_share(share: float) -> float:
    return finite_number("--idle-share", share, minimum=0, maximum=MAX_IDLE_SHARE)


def idle_energy_kwh(dynamic_kwh: float, idle_share: float) -> float:
    """Idle and infrastructure IT energy of an allocation whose idle share is ``idle_share``.

    The share is of the allocation's whole IT energy (work + idle), so the idle part is
    ``E_dynamic x share / (1 - share)``: BLOOM-176B's 256,646 kWh of idle and infrastructure next to
    433,196 kWh of dynamic energy is a share of 0.372.
    """
    e = finite_number("--energy-kwh", dynamic_kwh, minimum=0)
    s = check_idle_share(idle_share)
    return e * s / (1.0 - s)
