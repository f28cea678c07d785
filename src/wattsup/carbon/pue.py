"""Power usage effectiveness (facility energy / IT energy): published defaults by provider."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict

from wattsup.carbon._data import read_table
from wattsup.errors import NotFound

UNKNOWN_SITE = "unknown"


class PueValue(BaseModel):
    """A PUE with its provenance."""

    model_config = ConfigDict(frozen=True)

    key: str
    pue: float
    year: int
    source: str
    licence: str
    url: str = ""
    notes: str = ""

    @property
    def citation(self) -> str:
        return f"{self.source} ({self.year})"


@cache
def _table() -> dict[str, PueValue]:
    return {
        r["key"]: PueValue(
            key=r["key"],
            pue=float(r["pue"]),
            year=int(r["year"]),
            source=r["source"],
            licence=r["licence"],
            url=r["url"],
            notes=r["notes"],
        )
        for r in read_table("pue.csv")
    }


def pue_keys() -> list[str]:
    return list(_table())


def default_pue(provider: str | None = None) -> PueValue:
    """The published PUE for ``aws``, ``gcp``, ``azure`` or ``hyperscale``; ``None`` gives the default
    for a site of unknown provenance."""
    table = _table()
    key = UNKNOWN_SITE if provider is None else provider.strip().lower()
    if key not in table:
        raise NotFound("PUE key", key, table, hint="Pass --pue to set a measured value.")
    return table[key]
