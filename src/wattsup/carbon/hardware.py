"""The embodied-carbon hardware catalog: GPUs, server CPUs, hosts (servers without GPUs), memory and
storage per GB, and whole-server archetypes.

Published estimates disagree by up to ~30x for one GPU (die only vs card vs card with a host share), so
each item keeps a low, a central and a high value, each with its source, method and scope. Where fewer
than three are published, the missing bounds are derived by documented rules (``derived=True``):
low = the die-only figure (chips) or central / 2; central = the parametric model (chips); high = 2 x central.

An item whose embodied carbon is not known (no published figure and no published die areas: the ``dies``
cell reads ``unknown`` and the notes say what is missing) stays in the catalog for its power limit and
aliases, with no estimates; asking for its embodied carbon raises :class:`EmbodiedUnknown`, which says how
to give the figure.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wattsup.carbon._data import BOUNDS, Bound, default_value, opt_float, opt_int, read_table, split_list
from wattsup.carbon.parametric import (
    Die,
    FabParameters,
    die_only_kg,
    estimate_device,
    ic_embodied_kg,
    parse_dies,
)
from wattsup.errors import InvalidInput, NotFound, WattsupError

HardwareKind = Literal["gpu", "cpu", "chassis", "memory", "storage"]
EstimateBound = Literal["low", "central", "high", "reference"]
_OPTIMISTIC_FAB = FabParameters(abatement=99, packaging_kg_per_ic=0.0)
UNKNOWN_DIES = "unknown"
"""The ``dies`` cell of a catalog row whose die areas are not published."""
DERIVED = " [derived by a documented wattsup rule, not published]"
"""Appended to the citation of an estimate computed by a documented rule (``derived=True``)."""


class EmbodiedUnknown(WattsupError, LookupError):
    """The catalog knows an item (its power limit, its aliases) but not its embodied carbon."""

    exit_code = 2

    def __init__(self, item: str, kind: str, reason: str) -> None:
        self.item = item
        self.reason = reason
        flag = "--cpu-embodied-kg" if kind == "cpu" else "--gpu-embodied-kg"
        api = "cpu_embodied_kg" if kind == "cpu" else "gpu_embodied_kg"
        self.how = f"give it with {flag} KG (Python API: {api}=KG)"
        super().__init__(f"embodied carbon of {item} is unknown: {reason}; {self.how}")


class EmbodiedEstimate(BaseModel):
    """One estimate of the embodied carbon of one unit (or one GB) of an item."""

    model_config = ConfigDict(frozen=True)

    bound: EstimateBound
    kgco2e: float = Field(ge=0)
    scope: str = Field(description="die | gpu | gpu+host-share | host | cpu | per-GB")
    method: str
    source: str
    year: int
    licence: str
    url: str = ""
    notes: str = ""
    derived: bool = Field(default=False, description="computed by a documented wattsup rule, not published")

    def citation(self, item: str | None = None, *, scope: bool = True) -> str:
        """Where the estimate comes from, as a footprint quotes it: ``[item, ]bound: source (year; method[;
        scope s])``, marked when it is derived."""
        head = self.bound if item is None else f"{item}, {self.bound}"
        tail = f"; scope {self.scope}" if scope else ""
        return f"{head}: {self.source} ({self.year}; {self.method}{tail})" + (DERIVED if self.derived else "")


class HardwareItem(BaseModel):
    """A catalog item with its specification and its embodied-carbon estimates."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: HardwareKind
    unit: Literal["unit", "GB"] = "unit"
    aliases: list[str] = Field(default_factory=list)
    vendor: str = ""
    tdp_w: float | None = None
    memory_gb: float | None = None
    memory_type: str | None = None
    dies: list[Die] = Field(default_factory=list)
    default_host: str | None = None
    gpus_per_host: int | None = None
    released: int | None = None
    spec_source: str = ""
    spec_licence: str = ""
    notes: str = ""
    estimates: list[EmbodiedEstimate] = Field(default_factory=list)
    embodied_unknown: str | None = Field(
        default=None, description="why the embodied carbon is unknown; None when the estimates are known"
    )

    @property
    def embodied_known(self) -> bool:
        return self.embodied_unknown is None

    def unknown_error(self) -> EmbodiedUnknown:
        return EmbodiedUnknown(self.name, self.kind, self.embodied_unknown or "no estimate in the catalog")

    def estimate(self, bound: Bound = "central") -> EmbodiedEstimate:
        """The estimate at ``bound``; :class:`EmbodiedUnknown` when the item's embodied carbon is unknown."""
        if self.embodied_unknown is not None:
            raise self.unknown_error()
        for e in self.estimates:
            if e.bound == bound:
                return e
        raise LookupError(f"{self.name} has no {bound} estimate")  # the catalog guarantees all three

    def embodied_kg(self, bound: Bound = "central") -> float:
        """kgCO2e per unit (or per GB for memory and storage) at the chosen bound."""
        return self.estimate(bound).kgco2e

    @property
    def low_kg(self) -> float:
        return self.embodied_kg("low")

    @property
    def central_kg(self) -> float:
        return self.embodied_kg("central")

    @property
    def high_kg(self) -> float:
        return self.embodied_kg("high")

    @property
    def spread(self) -> float | None:
        """high / low: how much the estimates disagree (None when low is zero or the carbon is unknown)."""
        if not self.embodied_known:
            return None
        return self.high_kg / self.low_kg if self.low_kg > 0 else None


class ServerArchetype(BaseModel):
    """A whole server: ``gpu_count`` GPUs and a host (everything but the GPUs)."""

    model_config = ConfigDict(frozen=True)

    name: str
    aliases: list[str] = Field(default_factory=list)
    gpu: HardwareItem
    gpu_count: int = Field(ge=1)
    host: HardwareItem
    source: str
    year: int
    licence: str
    notes: str = ""

    def embodied_kg(self, bound: Bound = "central") -> float:
        return self.gpu_count * self.gpu.embodied_kg(bound) + self.host.embodied_kg(bound)

    @property
    def tdp_w(self) -> float | None:
        return None if self.gpu.tdp_w is None else self.gpu_count * self.gpu.tdp_w


def _published(item: str) -> list[EmbodiedEstimate]:
    out = []
    for r in read_table("embodied.csv"):
        if r["item"] == item:
            out.append(
                EmbodiedEstimate(
                    bound=r["bound"],  # type: ignore[arg-type]
                    kgco2e=float(r["kgco2e"]),
                    scope=r["scope"],
                    method=r["method"],
                    source=r["source"],
                    year=int(r["year"]),
                    licence=r["licence"],
                    url=r["url"],
                    notes=r["notes"],
                )
            )
    return out


def _derived(bound: EstimateBound, kg: float, scope: str, method: str, notes: str = "") -> EmbodiedEstimate:
    return EmbodiedEstimate(
        bound=bound,
        kgco2e=kg,
        scope=scope,
        method=method,
        source="wattsup derivation (see docs/carbon.md)",
        year=2024,
        licence="Apache-2.0 (wattsup)",
        notes=notes,
        derived=True,
    )


def _complete(
    *,
    kind: HardwareKind,
    dies: list[Die],
    tdp_w: float | None,
    memory_gb: float | None,
    memory_type: str | None,
    estimates: list[EmbodiedEstimate],
) -> list[EmbodiedEstimate]:
    have = {e.bound for e in estimates}
    factor = default_value("upper_factor")
    out = list(estimates)
    scope = {"gpu": "gpu", "cpu": "cpu", "chassis": "host"}.get(kind, "per-GB")
    if "central" not in have:
        if not dies:
            raise ValueError(f"catalog item of kind {kind} has no central estimate and no dies to model")
        est = estimate_device(
            dies,
            memory_gb=memory_gb or 0.0,
            memory_type=memory_type or "hbm",
            tdp_w=tdp_w if kind == "gpu" else None,
        )
        out.append(_derived("central", est.total_kg, scope, f"parametric: {est.method}"))
    central = next(e.kgco2e for e in out if e.bound == "central")
    if "low" not in have:
        if dies:
            low = min(die_only_kg(dies), ic_embodied_kg(dies, _OPTIMISTIC_FAB))
            out.append(
                _derived(
                    "low",
                    min(low, central),
                    "die",
                    "die-only lower bound: the lower of LLMCarbon's 1.8 kg/cm2 and ACT at 99% gas "
                    "abatement without packaging",
                )
            )
        else:
            out.append(_derived("low", central / factor, scope, f"assumed: central / {factor:g}"))
    if "high" not in have:
        out.append(
            _derived(
                "high",
                central * factor,
                scope,
                f"assumed: central x {factor:g}",
                "no higher published estimate; see docs/carbon.md",
            )
        )
    order = {"low": 0, "central": 1, "high": 2, "reference": 3}
    return sorted(out, key=lambda e: order[e.bound])


def _unknown_reason(row: dict[str, str], published: list[EmbodiedEstimate]) -> str | None:
    """Why a row's embodied carbon is unknown (``dies`` reads ``unknown`` and nothing is published), or
    None when it is known. A row marked unknown must say so in its notes."""
    if row["dies"].strip().casefold() != UNKNOWN_DIES or any(e.bound == "central" for e in published):
        return None
    if not row["notes"].strip():
        raise ValueError(f"catalog item {row['name']} has unknown embodied carbon but no notes saying why")
    return f"no published embodied-carbon figure and no published die areas for {row['name']}"


@cache
def _items() -> dict[str, HardwareItem]:
    items: dict[str, HardwareItem] = {}
    for r in read_table("hardware.csv"):
        kind: HardwareKind = r["kind"]  # type: ignore[assignment]
        unknown_dies = r["dies"].strip().casefold() == UNKNOWN_DIES
        dies = parse_dies(r["dies"]) if r["dies"] and not unknown_dies else []
        tdp = opt_float(r["tdp_w"])
        mem = opt_float(r["memory_gb"])
        published = _published(r["name"])
        unknown = _unknown_reason(r, published)
        estimates = (
            []
            if unknown is not None
            else _complete(
                kind=kind,
                dies=dies,
                tdp_w=tdp,
                memory_gb=mem,
                memory_type=r["memory_type"] or None,
                estimates=published,
            )
        )
        items[r["name"]] = HardwareItem(
            name=r["name"],
            kind=kind,
            unit=r["unit"],  # type: ignore[arg-type]
            aliases=split_list(r["aliases"]),
            vendor=r["vendor"],
            tdp_w=tdp,
            memory_gb=mem,
            memory_type=r["memory_type"] or None,
            dies=dies,
            default_host=r["default_host"] or None,
            gpus_per_host=opt_int(r["gpus_per_host"]),
            released=opt_int(r["released"]),
            spec_source=r["source"],
            spec_licence=r["licence"],
            notes=r["notes"],
            estimates=estimates,
            embodied_unknown=unknown,
        )
    return items


@cache
def _servers() -> dict[str, ServerArchetype]:
    items = _items()
    return {
        r["name"]: ServerArchetype(
            name=r["name"],
            aliases=split_list(r["aliases"]),
            gpu=items[r["gpu"]],
            gpu_count=int(r["gpu_count"]),
            host=items[r["host"]],
            source=r["source"],
            year=int(r["year"]),
            licence=r["licence"],
            notes=r["notes"],
        )
        for r in read_table("servers.csv")
    }


def _norm(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum() or ch == "+")


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name, item in _items().items():
        for k in (name, *item.aliases):
            index.setdefault(_norm(k), name)
    for name, srv in _servers().items():
        for k in (name, *srv.aliases):
            index.setdefault(_norm(k), name)
    return index


def _names(kinds: tuple[str, ...] | None = None) -> list[str]:
    names: list[str] = []
    for n, i in _items().items():
        if kinds is None or i.kind in kinds:
            names += [n, *i.aliases]
    if kinds is None or "server" in kinds:
        for n, s in _servers().items():
            names += [n, *s.aliases]
    return names


def lookup(
    name: str, kinds: tuple[str, ...] | None = None, flag: str = "hardware"
) -> HardwareItem | ServerArchetype:
    """Find an item or server archetype by name or alias (case and punctuation insensitive)."""
    key = _index().get(_norm(name))
    found: HardwareItem | ServerArchetype | None = None
    if key is not None:
        found = _items().get(key) or _servers().get(key)
    if found is not None:
        kind = "server" if isinstance(found, ServerArchetype) else found.kind
        if kinds is None or kind in kinds:
            return found
    label = flag if kinds is None else "/".join(kinds)
    raise NotFound(label, name, _names(kinds), hint="'wattsup hardware --list' shows the catalog.")


def hardware(name: str) -> HardwareItem:
    """A GPU, CPU, host, memory or storage item (not a server archetype)."""
    item = lookup(name, ("gpu", "cpu", "chassis", "memory", "storage"), flag="hardware")
    assert isinstance(item, HardwareItem)
    return item


def _kind_of(name: str) -> str | None:
    key = _index().get(_norm(name))
    if key is None:
        return None
    if key in _servers():
        return "server"
    return _items()[key].kind


def gpu(name: str, flag: str = "--gpu") -> HardwareItem:
    """A catalog GPU. A CPU's name gets an error pointing to ``--cpu``."""
    if _kind_of(name) == "cpu":
        raise InvalidInput(
            flag,
            f"{name!r} is a CPU, not a GPU: for a CPU-only server use --cpu {hardware(name).name} "
            "(a GPU server's CPUs are part of its host)",
        )
    item = lookup(name, ("gpu",), flag="GPU")
    assert isinstance(item, HardwareItem)
    return item


def cpu(name: str, flag: str = "--cpu") -> HardwareItem:
    """A catalog server CPU. A GPU's name gets an error pointing to ``--gpu``."""
    if _kind_of(name) == "gpu":
        raise InvalidInput(flag, f"{name!r} is a GPU, not a CPU: use --gpu {hardware(name).name}")
    item = lookup(name, ("cpu",), flag="CPU")
    assert isinstance(item, HardwareItem)
    return item


def host(name: str) -> HardwareItem:
    item = lookup(name, ("chassis",), flag="host")
    assert isinstance(item, HardwareItem)
    return item


def server(name: str) -> ServerArchetype:
    item = lookup(name, ("server",), flag="server")
    assert isinstance(item, ServerArchetype)
    return item


def list_hardware(kind: HardwareKind | None = None) -> list[HardwareItem]:
    return [i for i in _items().values() if kind is None or i.kind == kind]


def list_servers() -> list[ServerArchetype]:
    return list(_servers().values())


__all__ = [
    "BOUNDS",
    "EmbodiedEstimate",
    "EmbodiedUnknown",
    "HardwareItem",
    "HardwareKind",
    "ServerArchetype",
    "cpu",
    "gpu",
    "hardware",
    "host",
    "list_hardware",
    "list_servers",
    "lookup",
    "server",
]
