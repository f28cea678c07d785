"""Water consumed by AI work: on site (cooling, the data centre's WUE) and off site (the water consumed
to generate its electricity), as Google's and Mistral's assessments report it.

``water = E_IT x WUE + E_IT x PUE x EWIF`` (Li et al., "Making AI Less Thirsty"): the on-site WUE is
litres per kWh of IT energy; the off-site intensity (EWIF) is litres per kWh of electricity, so it
applies to the facility's energy. Values come from ``water.csv`` with a source and year each; where no
published value exists the figure is ``None`` and says so: it is never assumed.

Pure functions: the only I/O is reading the packaged table, so a serving path can call
:func:`water_l` per request.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wattsup.carbon._data import opt_float, read_table
from wattsup.carbon.grid import country_of, grid_intensity
from wattsup.carbon.pue import default_pue
from wattsup.errors import NotFound, finite_number

UNKNOWN_SITE = "unknown"
WaterKind = Literal["onsite", "offsite"]


class WaterFactor(BaseModel):
    """A litres-per-kWh factor with where it comes from; ``l_per_kwh`` is ``None`` when unknown."""

    model_config = ConfigDict(frozen=True)

    kind: WaterKind
    key: str
    l_per_kwh: float | None = Field(description="litres per kWh; None: no published value")
    year: int | None
    source: str
    licence: str = ""
    url: str = ""
    checked: str = Field(default="", description="how the value was confirmed, or that it was not")
    notes: str = ""

    @property
    def citation(self) -> str:
        if self.year is None:
            return self.source
        return f"{self.source} ({self.year})"


class WaterSite(BaseModel):
    """The two factors of a site, resolved once: on-site WUE and off-site water intensity (L/kWh)."""

    model_config = ConfigDict(frozen=True)

    wue_l_per_kwh: float | None
    wue_source: str
    water_intensity_l_per_kwh: float | None
    water_intensity_source: str


class WaterUse(WaterSite):
    """Water of some energy on a site: on site, off site and their sum (litres); ``None`` parts are
    unknown."""

    energy_kwh: float = Field(description="IT energy")
    pue: float
    onsite_l: float | None
    offsite_l: float | None
    total_l: float | None = Field(description="on site + off site; None when either is unknown")


@cache
def _table() -> dict[tuple[str, str], WaterFactor]:
    out: dict[tuple[str, str], WaterFactor] = {}
    for r in read_table("water.csv"):
        kind: WaterKind = r["kind"]  # type: ignore[assignment]
        out[(kind, r["key"])] = WaterFactor(
            kind=kind,
            key=r["key"],
            l_per_kwh=opt_float(r["l_per_kwh"]),
            year=int(r["year"]) if r["year"] else None,
            source=r["source"],
            licence=r["licence"],
            url=r["url"],
            checked=r["checked"],
            notes=r["notes"],
        )
    return out


def water_factors() -> list[WaterFactor]:
    """Every row of the packaged water table."""
    return list(_table().values())


def onsite_wue(provider: str | None = None) -> WaterFactor:
    """The published on-site WUE of ``aws``, ``azure`` or ``gcp`` (``None`` value where the provider
    publishes none); no provider gives the default for a site of unknown provenance."""
    key = UNKNOWN_SITE if provider is None else provider.strip().lower()
    table = _table()
    if ("onsite", key) not in table:
        keys = [k for kind, k in table if kind == "onsite"]
        raise NotFound("WUE key", key, keys, hint="Pass --wue L_PER_KWH to set a measured value.")
    return table[("onsite", key)]


def grid_water_intensity(region: str) -> WaterFactor:
    """Water consumed per kWh of electricity for a region's grid, by its country. Regions without a
    published value get ``l_per_kwh=None`` with a note saying so."""
    country = country_of(region)
    found = _table().get(("offsite", country)) if country is not None else None
    if found is not None:
        return found
    where = country or grid_intensity(region).code
    return WaterFactor(
        kind="offsite",
        key=where,
        l_per_kwh=None,
        year=None,
        source=f"unknown: wattsup ships no published water intensity of electricity for {where}",
        checked="not found",
        notes="pass --water-intensity L_PER_KWH (e.g. a country factor of WRI's 2020 guidance)",
    )


def water_site(
    region: str | None = None, wue: float | None = None, water_intensity: float | None = None
) -> WaterSite:
    """Resolve a site's water factors: given values win, else the provider's published WUE (a region
    of no known provider gets the unknown-site default) and the grid's water intensity by country."""
    provider = grid_intensity(region).provider if region is not None else None
    if wue is not None:
        w: float | None = finite_number("--wue", wue, minimum=0)
        w_source = "given (--wue)"
    else:
        f = onsite_wue(provider)
        w = f.l_per_kwh
        w_source = f"{f.key}: {f.citation}" if w is not None else f"{f.key}: {f.notes}"
    if water_intensity is not None:
        ewif: float | None = finite_number("--water-intensity", water_intensity, minimum=0)
        ewif_source = "given (--water-intensity)"
    elif region is not None:
        g = grid_water_intensity(region)
        ewif = g.l_per_kwh
        ewif_source = f"{g.key}: {g.citation}" + (f"; {g.notes}" if ewif is None else "")
    else:
        ewif, ewif_source = None, "unknown: give --region or --water-intensity L_PER_KWH"
    return WaterSite(
        wue_l_per_kwh=w,
        wue_source=w_source,
        water_intensity_l_per_kwh=ewif,
        water_intensity_source=ewif_source,
    )


def water_use(energy_kwh: float, pue: float, site: WaterSite) -> WaterUse:
    """``E x WUE`` on site and ``E x PUE x EWIF`` off site, for ``energy_kwh`` of IT energy."""
    e = finite_number("--energy-kwh", energy_kwh, minimum=0)
    p = finite_number("--pue", pue, minimum=1.0)
    w, ewif = site.wue_l_per_kwh, site.water_intensity_l_per_kwh
    onsite = None if w is None else e * w
    offsite = None if ewif is None else e * p * ewif
    return WaterUse(
        **dict(site),
        energy_kwh=e,
        pue=p,
        onsite_l=onsite,
        offsite_l=offsite,
        total_l=None if onsite is None or offsite is None else onsite + offsite,
    )


def water_l(
    energy_kwh: float,
    region: str | None = None,
    wue: float | None = None,
    *,
    pue: float | None = None,
    water_intensity: float | None = None,
) -> WaterUse:
    """Water of ``energy_kwh`` of IT energy: ``E x WUE`` on site and ``E x PUE x EWIF`` off site.

    ``wue`` and ``water_intensity`` (litres per kWh) override the table; ``region`` gives the cloud
    provider's published WUE and PUE and the grid's water intensity; ``pue`` defaults like a footprint's
    (the provider's, else the unknown-site value).
    """
    provider = grid_intensity(region).provider if region is not None else None
    p = finite_number("--pue", pue, minimum=1.0) if pue is not None else default_pue(provider).pue
    return water_use(energy_kwh, p, water_site(region, wue, water_intensity))
