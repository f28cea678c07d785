"""Grid carbon intensity: annual averages per country, US eGRID subregion and state, Canadian province,
and cloud region (mapped to its grid, or the provider's published value).

Every value carries its source, year and licence. Location-based only: market-based factors depend on a
buyer's contracts and are given by the user (see :mod:`wattsup.carbon.operational`).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wattsup.carbon._data import opt_float, read_table, split_list
from wattsup.errors import InvalidInput, NotFound

RegionKind = Literal["country", "aggregate", "egrid", "us-state", "ca-province", "cloud"]
Provider = Literal["aws", "gcp", "azure"]

PROVIDER_ALIASES: dict[str, Provider] = {
    "aws": "aws",
    "amazon": "aws",
    "ec2": "aws",
    "gcp": "gcp",
    "google": "gcp",
    "gcloud": "gcp",
    "azure": "azure",
    "az": "azure",
    "microsoft": "azure",
}


class GridIntensity(BaseModel):
    """The annual average carbon intensity of the grid a region draws from, with where it comes from."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description="canonical code: FRA, CAMX, US-CA, CA-QC, aws:us-west-2, ...")
    name: str
    kind: RegionKind
    intensity_g_per_kwh: float = Field(description="location-based, gCO2e per kWh consumed")
    year: int
    source: str
    licence: str
    url: str = ""
    notes: str = ""
    via: list[str] = Field(
        default_factory=list, description="how the code was resolved, e.g. aws:us-west-2 > US-OR > NWPP"
    )
    provider: Provider | None = None
    cfe_fraction: float | None = Field(
        default=None, description="provider-published carbon-free-energy share (GCP only)"
    )
    cfe_source: str | None = None

    @property
    def label(self) -> str:
        return f"{self.code} ({self.name})"

    @property
    def citation(self) -> str:
        """The intensity's source and how the code resolved: ``source (year, licence) via a > b``."""
        via = f" via {' > '.join(self.via)}" if self.via else ""
        return f"{self.source} ({self.year}, {self.licence}){via}"


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    kind: RegionKind
    name: str
    keys: list[str] = Field(description="what a lookup matches: the code, name, ISO alpha-2 and aliases")
    intensity_g_per_kwh: float | None = Field(
        description="gCO2e per kWh; None: the region takes the figure of the grid in maps_to"
    )
    maps_to: str | None = Field(description="the code of the grid whose figure the region takes")
    year: int = Field(description="the year the figure describes")
    source: str
    licence: str
    url: str
    notes: str = Field(description="the release used, or why and how the region is mapped to another grid")
    provider: Provider | None = None
    cfe_fraction: float | None = None
    grid: str | None = Field(default=None, description="cloud regions: the grid the region draws from")


def _norm(text: str) -> str:
    t = text.strip().casefold().replace("_", "-")
    t = re.sub(r"\s+", " ", t)
    return t


@cache
def _entries() -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for r in read_table("grid_intensity.csv"):
        keys = [r["code"], r["name"], *split_list(r["aliases"])]
        if r["alpha2"]:
            keys.append(r["alpha2"])
        entries[r["code"]] = _Entry(
            code=r["code"],
            kind=r["kind"],  # type: ignore[arg-type]
            name=r["name"],
            keys=keys,
            intensity_g_per_kwh=opt_float(r["intensity_g_per_kwh"]),
            maps_to=r["maps_to"] or None,
            year=int(r["year"]),
            source=r["source"],
            licence=r["licence"],
            url=r["url"],
            notes=r["notes"],
        )
    for r in read_table("cloud_regions.csv"):
        provider: Provider = PROVIDER_ALIASES[r["provider"]]
        code = f"{provider}:{r['region']}"
        entries[code] = _Entry(
            code=code,
            kind="cloud",
            name=f"{provider.upper()} {r['region']} ({r['location']})",
            keys=[code],
            intensity_g_per_kwh=opt_float(r["intensity_g_per_kwh"]),
            maps_to=None if r["intensity_g_per_kwh"] else r["grid"],
            year=int(r["year"]),
            source=r["source"],
            licence=r["licence"],
            url=r["url"],
            notes=r["notes"],
            provider=provider,
            cfe_fraction=opt_float(r["cfe_fraction"]),
            grid=r["grid"] or None,
        )
    return entries


@cache
def _index() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Lookup key -> canonical code, and bare cloud region name -> codes (to detect ambiguity)."""
    index: dict[str, str] = {}
    bare: dict[str, list[str]] = {}
    for code, e in _entries().items():
        for k in e.keys:
            index.setdefault(_norm(k), code)
        if e.kind == "cloud":
            region = code.split(":", 1)[1]
            bare.setdefault(_norm(region), []).append(code)
    return index, bare


def region_codes() -> list[str]:
    """Every canonical region code, for listings and suggestions."""
    return list(_entries())


def _choices() -> list[str]:
    out: list[str] = []
    for code, e in _entries().items():
        out.append(code)
        if e.kind != "cloud":
            out.extend(e.keys)
    return list(dict.fromkeys(out))


def _lookup_code(region: str) -> str:
    if not region or not region.strip():
        raise InvalidInput("--region", "empty region code; give e.g. FR, USA, US-CA, CA-QC or aws:us-west-2")
    index, bare = _index()
    q = _norm(region)
    m = re.match(r"^([a-z]+)\s*[:/ ]\s*(.+)$", q)
    if m and m.group(1) in PROVIDER_ALIASES:
        q = f"{PROVIDER_ALIASES[m.group(1)]}:{m.group(2)}"
    if q in index:
        return index[q]
    if q in bare:
        codes = bare[q]
        if len(codes) == 1:
            return codes[0]
        raise InvalidInput(
            "--region", f"{region!r} is a region of several clouds; use one of {', '.join(codes)}"
        )
    raise NotFound(
        "region",
        region,
        _choices(),
        hint="Use an ISO country code or name, US-XX, an eGRID code, CA-XX, or provider:region; "
        "'wattsup grid --list' shows them all, and --intensity G_PER_KWH sets a value directly.",
    )


def grid_intensity(region: str) -> GridIntensity:
    """Resolve any region code or name to its annual grid intensity (raises NotFound with close matches)."""
    code = _lookup_code(region)
    return _resolve(code)


_OF_REGION = {"code", "name", "kind", "provider", "cfe_fraction"}
"""What a resolved region keeps of the entry asked for."""
_OF_FIGURE = {"intensity_g_per_kwh", "year", "source", "licence", "url"}
"""What it takes from the grid that has the figure (the entry itself, or the one it maps to)."""


def _resolve(code: str) -> GridIntensity:
    entries = _entries()
    chain: list[str] = []
    e = entries[code]
    first = e
    while e.intensity_g_per_kwh is None:
        chain.append(e.code)
        if e.maps_to is None or e.maps_to not in entries or len(chain) > 5:
            raise InvalidInput("--region", f"no grid intensity known for {code}; pass --intensity G_PER_KWH")
        e = entries[e.maps_to]
    chain.append(e.code)
    notes = "; ".join(n for n in (first.notes, e.notes if e is not first else "") if n)
    cfe_source = None
    if first.cfe_fraction is not None:
        cfe_source = f"{first.source} ({first.year})"
    return GridIntensity(
        **first.model_dump(include=_OF_REGION),
        **e.model_dump(include=_OF_FIGURE),
        notes=notes,
        via=chain if len(chain) > 1 else [],
        cfe_source=cfe_source,
    )


_COUNTRY_OF_KIND = {"egrid": "USA", "us-state": "USA", "ca-province": "CAN"}


def country_of(region: str) -> str | None:
    """The ISO alpha-3 country a region's grid belongs to (``aws:us-west-2`` > ``US-OR`` > ``USA``), or
    ``None`` for an aggregate such as ``WORLD`` or ``EU``."""
    entries = _entries()
    code: str | None = _lookup_code(region)
    seen: set[str] = set()
    while code is not None and code in entries and code not in seen:
        seen.add(code)
        e = entries[code]
        if e.kind == "country":
            return e.code
        if e.kind in _COUNTRY_OF_KIND:
            return _COUNTRY_OF_KIND[e.kind]
        code = e.maps_to or e.grid
    return None


def list_regions(kind: RegionKind | None = None) -> list[GridIntensity]:
    """Every region the table resolves, optionally of one kind, in table order."""
    return [_resolve(code) for code, e in _entries().items() if kind is None or e.kind == kind]
