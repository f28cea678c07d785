"""A parametric embodied-carbon model for chips, memory and storage, in the style of ACT
(Gupta et al., ISCA 2022).

IC carbon = die area x carbon per area (CPA) + packaging, with
``CPA = (CI_fab x EPA + GPA + MPA) / yield`` per process node (energy, gases and materials per cm2).
Memory and storage are per GB. For a GPU module, the board, heat sink and power delivery that ACT does
not model are added as ``non_ic_kg_per_w x TDP`` (derived from NVIDIA's HGX H100 product footprint).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wattsup.carbon._data import BOUNDS, Bound, default_value, opt_float, read_table
from wattsup.errors import InvalidInput, NotFound, finite_number
from wattsup.params import ParamModel, param

MM2_PER_CM2 = 100.0
MemoryKind = Literal["dram", "hbm", "gddr", "ssd", "hdd"]
MEMORY_KINDS: tuple[MemoryKind, ...] = ("dram", "hbm", "gddr", "ssd", "hdd")


class NodeParameters(BaseModel):
    """ACT's per-node fab figures (per cm2 of wafer)."""

    model_config = ConfigDict(frozen=True)

    node_nm: int
    epa_kwh_per_cm2: float
    gpa95_g_per_cm2: float
    gpa99_g_per_cm2: float
    mpa_g_per_cm2: float
    source: str


class FabParameters(ParamModel):
    """Where and how a chip is made, each field declared once with its bounds and its ``wattsup
    hardware`` flag. Defaults are ACT's (Taiwan fab, 87.5% yield, 95% gas abatement)."""

    fab_intensity_g_per_kwh: float = param(
        description="Parametric: fab grid (default: ACT's Taiwan grid).",
        flag="--fab-intensity",
        unit="gCO2e/kWh",
        default_factory=lambda: default_value("fab_intensity_g_per_kwh"),
        ge=0,
    )
    yield_fraction: float = param(
        description="Parametric: die yield in (0, 1] (default: ACT's 87.5%).",
        flag="--yield",
        default_factory=lambda: default_value("fab_yield"),
        gt=0,
        le=1,
    )
    abatement: Literal[95, 99] = param(95, "Parametric: fab gas abatement, 95 or 99 (%).")
    packaging_kg_per_ic: float = param(
        description="Packaging per die.",
        unit="kgCO2e",
        default_factory=lambda: default_value("packaging_kg_per_ic"),
        ge=0,
        cli=False,
    )


class Die(BaseModel):
    """``count`` identical dies of ``area_mm2`` made on the ``node_nm`` process."""

    model_config = ConfigDict(frozen=True)

    area_mm2: float = Field(gt=0)
    node_nm: int = Field(gt=0)
    count: int = Field(default=1, ge=1)

    @property
    def total_area_cm2(self) -> float:
        return self.area_mm2 * self.count / MM2_PER_CM2


def parse_dies(spec: str) -> list[Die]:
    """Parse ``"814@5"`` or ``"72x12@5;397@7"`` (area mm2, optional xcount, @ node nm)."""
    dies: list[Die] = []
    for part in (p.strip() for p in spec.split(";") if p.strip()):
        try:
            area_count, node = part.split("@")
            area, _, count = area_count.partition("x")
            dies.append(Die(area_mm2=float(area), node_nm=int(node), count=int(count) if count else 1))
        except ValueError:
            raise InvalidInput(
                "--dies", f"cannot read die spec {part!r}; expected AREA_MM2[xCOUNT]@NODE_NM"
            ) from None
    return dies


@cache
def _nodes() -> dict[int, NodeParameters]:
    return {
        int(r["node_nm"]): NodeParameters(
            node_nm=int(r["node_nm"]),
            epa_kwh_per_cm2=float(r["epa_kwh_per_cm2"]),
            gpa95_g_per_cm2=float(r["gpa95_g_per_cm2"]),
            gpa99_g_per_cm2=float(r["gpa99_g_per_cm2"]),
            mpa_g_per_cm2=float(r["mpa_g_per_cm2"]),
            source=f"{r['source']} ({r['year']})",
        )
        for r in read_table("act_nodes.csv")
    }


def node_parameters(node_nm: float) -> NodeParameters:
    """The ACT row for a node; other nodes use the nearest row (a tie goes to the older, larger node:
    12 nm uses 14, 6 nm uses 7, 4 nm uses 5)."""
    v = finite_number("--node-nm", node_nm, minimum=0, strict_min=True)
    nodes = _nodes()
    best = min(nodes, key=lambda n: (abs(n - v), -n))
    return nodes[best]


def carbon_per_area_kg_per_cm2(node_nm: float, fab: FabParameters | None = None) -> float:
    """ACT's CPA: (CI_fab x EPA + GPA + MPA) / yield, in kgCO2e per cm2 of good die."""
    fab = fab or FabParameters()
    n = node_parameters(node_nm)
    gpa = n.gpa95_g_per_cm2 if fab.abatement == 95 else n.gpa99_g_per_cm2
    grams = fab.fab_intensity_g_per_kwh * n.epa_kwh_per_cm2 + gpa + n.mpa_g_per_cm2
    return grams / 1000.0 / fab.yield_fraction


def ic_embodied_kg(dies: Sequence[Die], fab: FabParameters | None = None) -> float:
    """Embodied carbon of the dies plus packaging (one package charge per die)."""
    fab = fab or FabParameters()
    total = 0.0
    for d in dies:
        total += (
            d.total_area_cm2 * carbon_per_area_kg_per_cm2(d.node_nm, fab) + d.count * fab.packaging_kg_per_ic
        )
    return total


def die_only_kg(dies: Sequence[Die]) -> float:
    """LLMCarbon's die-only figure (area x 1.8 kg/cm2): a lower bound of a chip's embodied carbon."""
    return sum(d.total_area_cm2 for d in dies) * default_value("die_only_kg_per_cm2")


@cache
def _per_gb() -> dict[str, dict[Bound, tuple[float, str]]]:
    """Published per-GB figures for memory and storage, with the documented rule for missing bounds."""
    factor = default_value("upper_factor")
    out: dict[str, dict[Bound, tuple[float, str]]] = {}
    for r in read_table("embodied.csv"):
        if r["item"] in MEMORY_KINDS and r["bound"] in BOUNDS:
            v = opt_float(r["kgco2e"])
            if v is not None:
                out.setdefault(r["item"], {})[r["bound"]] = (v, f"{r['source']} ({r['year']})")
    for values in out.values():
        c, src = values["central"]
        values.setdefault("low", (c / factor, f"central / {factor:g} (wattsup assumption; {src})"))
        values.setdefault("high", (c * factor, f"central x {factor:g} (wattsup assumption; {src})"))
    return out


def per_gb_kg(kind: str, bound: Bound = "central") -> float:
    """kgCO2e per GB of ``dram``, ``hbm``, ``gddr``, ``ssd`` or ``hdd``."""
    table = _per_gb()
    key = kind.strip().lower()
    if key not in table:
        raise NotFound("memory or storage kind", kind, table)
    return table[key][bound][0]


def memory_embodied_kg(gb: float, kind: str = "dram", bound: Bound = "central") -> float:
    """Embodied carbon of ``gb`` gigabytes of memory or storage."""
    return finite_number("--memory-gb", gb, minimum=0) * per_gb_kg(kind, bound)


class DeviceEstimate(BaseModel):
    """A parametric estimate of a chip or module, part by part (kgCO2e)."""

    model_config = ConfigDict(frozen=True)

    dies_kg: float
    packaging_kg: float
    memory_kg: float
    board_kg: float | None = Field(
        description="non-IC parts (board, heat sink, power delivery); None if not modelled"
    )
    total_kg: float
    method: str


def estimate_device(
    dies: Sequence[Die],
    *,
    memory_gb: float = 0.0,
    memory_type: str = "hbm",
    tdp_w: float | None = None,
    fab: FabParameters | None = None,
    bound: Bound = "central",
) -> DeviceEstimate:
    """ACT-style estimate of a chip (dies + packaging + memory), plus the board share when a TDP is given."""
    fab = fab or FabParameters()
    if not dies:
        raise InvalidInput("--dies", "at least one die is needed for a parametric estimate")
    packaging = sum(d.count for d in dies) * fab.packaging_kg_per_ic
    die_kg = ic_embodied_kg(dies, fab) - packaging
    mem = memory_embodied_kg(memory_gb, memory_type, bound) if memory_gb else 0.0
    board: float | None = None
    method = "ACT-style IC model (dies x CPA + packaging) + memory per GB"
    if tdp_w is not None:
        board = finite_number("--tdp-w", tdp_w, minimum=0) * default_value("non_ic_kg_per_w")
        method += " + non-IC share scaled by TDP (from NVIDIA's HGX H100 product footprint)"
    total = die_kg + packaging + mem + (board or 0.0)
    return DeviceEstimate(
        dies_kg=die_kg, packaging_kg=packaging, memory_kg=mem, board_kg=board, total_kg=total, method=method
    )
