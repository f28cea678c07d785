"""Amortising embodied carbon over a job: the job pays for the share of the hardware's life it occupies."""

from __future__ import annotations

from wattsup.carbon._data import default_source, default_value
from wattsup.errors import finite_number

HOURS_PER_YEAR = 8760.0


def default_lifetime_years() -> float:
    return default_value("lifetime_years")


def default_utilization() -> float:
    return default_value("utilization")


def lifetime_source() -> str:
    return default_source("lifetime_years")


def utilization_source() -> str:
    return default_source("utilization")


def check_lifetime(lifetime_years: float) -> float:
    return finite_number("--lifetime-years", lifetime_years, minimum=0, strict_min=True)


def check_utilization(utilization: float) -> float:
    return finite_number("--utilization", utilization, minimum=0, strict_min=True, maximum=1)


def amortised_embodied_kg(
    embodied_kg: float, hours: float, lifetime_years: float, utilization: float
) -> float:
    """``C_emb,job = C_emb x T_job / (lifetime x utilisation)``.

    ``hours`` is the hardware time the job occupies (for a GPU figure: GPU-hours). Dividing by the
    utilisation charges the hardware's idle time to the jobs that run on it.
    """
    c = finite_number("--embodied-kg", embodied_kg, minimum=0)
    t = finite_number("--gpu-hours", hours, minimum=0)
    life = check_lifetime(lifetime_years)
    u = check_utilization(utilization)
    return c * t / (life * HOURS_PER_YEAR * u)


def construction_kg(operational_kgco2e: float, share: float) -> float:
    """The data-centre construction share: if construction is ``share`` of a site's lifetime emissions,
    it adds ``share / (1 - share)`` to the operational emissions it houses."""
    s = finite_number("--construction-share", share, minimum=0, maximum=0.5)
    return operational_kgco2e * s / (1.0 - s)
