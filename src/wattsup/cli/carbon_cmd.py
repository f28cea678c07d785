"""``wattsup grid`` and ``wattsup hardware`` (and the registration of ``wattsup footprint``, in
:mod:`wattsup.cli.footprint_cmd`): thin wrappers over :mod:`wattsup.carbon`."""

from __future__ import annotations

import json
from typing import Any

import typer

from wattsup.carbon.parametric import FabParameters
from wattsup.cli import ui
from wattsup.cli.footprint_cmd import footprint_cmd
from wattsup.cli.params import bind
from wattsup.errors import InvalidInput
from wattsup.format import kg as _kg
from wattsup.params import ParamModel, param

BOUND_CHOICES = ("low", "central", "high")
KG_PER_TONNE = 1000.0


def register(app: typer.Typer) -> None:
    app.command("footprint")(footprint_cmd)
    app.command("grid")(grid_cmd)
    app.command("hardware")(hardware_cmd)


# ---------------------------------------------------------------- helpers


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# ---------------------------------------------------------------- grid


def grid_cmd(
    region: str | None = typer.Argument(
        None, help="Region code: FR, USA, US-CA, CAMX, CA-QC, aws:us-west-2, ..."
    ),
    list_all: bool = typer.Option(False, "--list", help="List every region the table knows."),
    kind: str | None = typer.Option(
        None, "--kind", help="With --list: country, egrid, us-state, ca-province, cloud."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Annual grid carbon intensity of a region, with its source, year and licence."""
    from wattsup.carbon import grid_intensity, list_regions

    if list_all or region is None:
        kinds = ("country", "aggregate", "egrid", "us-state", "ca-province", "cloud")
        if kind is not None and kind not in kinds:
            raise InvalidInput("--kind", f"must be one of {', '.join(kinds)}, got {kind!r}")
        rows = list_regions(kind)  # type: ignore[arg-type]
        if as_json:
            _echo_json([r.model_dump(mode="json") for r in rows])
            return
        from rich.table import Table

        t = Table(title=f"{len(rows)} regions", title_justify="left")
        for col in ("code", "name", "gCO2e/kWh", "year", "source"):
            t.add_column(col, overflow="fold")
        for r in rows:
            t.add_row(r.code, r.name, f"{r.intensity_g_per_kwh:g}", str(r.year), r.source)
        ui.console(width=120, soft_wrap=True).print(t)
        return
    g = grid_intensity(region)
    if as_json:
        _echo_json(g.model_dump(mode="json"))
        return
    con = ui.console(width=120, soft_wrap=True)
    con.print(
        f"[b]{g.code}[/b] {g.name}: [b]{g.intensity_g_per_kwh:g} gCO2e/kWh[/b] ({g.year}, location-based)"
    )
    if g.via:
        con.print(f"resolved via {' > '.join(g.via)}")
    con.print(f"source: {g.source}; licence: {g.licence}" + (f"; {g.url}" if g.url else ""))
    if g.cfe_fraction is not None:
        con.print(f"provider carbon-free energy: {g.cfe_fraction:.0%} ({g.cfe_source})")
    if g.notes:
        con.print(f"notes: {g.notes}")


# ---------------------------------------------------------------- hardware


class Chip(ParamModel):
    """A device the catalog lacks, estimated from its dies (``wattsup hardware --dies ...``)."""

    dies: str | None = param(None, "Parametric estimate: AREA_MM2[xCOUNT]@NODE_NM[;...].")
    memory_gb: float = param(0.0, "Parametric: memory on the package, GB.", ge=0)
    memory_type: str = param("hbm", "Parametric: dram, hbm, gddr, ssd, hdd.")
    tdp_w: float | None = param(None, "Parametric: add the board share for a GPU of this TDP.", ge=0)


@bind("chip", Chip)
@bind("fab", FabParameters)
def hardware_cmd(
    name: str | None = typer.Argument(
        None, help="Catalog item or server archetype (H100, 8xH100-SXM, EPYC-9654, ...)."
    ),
    list_all: bool = typer.Option(False, "--list", help="List the catalog."),
    *,
    chip: Chip,
    fab: FabParameters,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Embodied carbon of hardware: low, central and high values with sources, or a parametric estimate."""
    from wattsup.carbon import HardwareItem, lookup

    if chip.dies is not None:
        _parametric(chip.dies, chip, fab, as_json)
        return
    if list_all or name is None:
        _catalog(as_json)
        return
    item = lookup(name)
    if as_json:
        _echo_json(item.model_dump(mode="json") if isinstance(item, HardwareItem) else _server_dict(item))
        return
    if isinstance(item, HardwareItem):
        _show_item(item)
    else:
        _show_server(item)


def _parametric(dies: str, chip: Chip, fab: FabParameters, as_json: bool) -> None:
    from wattsup.carbon import estimate_device, parse_dies

    est = estimate_device(
        parse_dies(dies), memory_gb=chip.memory_gb, memory_type=chip.memory_type, tdp_w=chip.tdp_w, fab=fab
    )
    if as_json:
        _echo_json(est.model_dump(mode="json"))
        return
    con = ui.console(width=120, soft_wrap=True)
    con.print(f"[b]parametric estimate: {_kg(est.total_kg)}[/b] ({est.method})")
    con.print(
        f"dies {_kg(est.dies_kg)}, packaging {_kg(est.packaging_kg)}, memory {_kg(est.memory_kg)}, "
        f"board {_kg(est.board_kg) if est.board_kg is not None else 'not modelled (no --tdp-w)'}"
    )
    return


def _catalog(as_json: bool) -> None:
    from wattsup.carbon import list_hardware, list_servers

    items = list_hardware()
    servers = list_servers()
    if as_json:
        _echo_json(
            {
                "items": [i.model_dump(mode="json") for i in items],
                "servers": [_server_dict(s) for s in servers],
            }
        )
        return
    from rich.table import Table

    t = Table(title="Embodied carbon catalog (kgCO2e per unit, or per GB)", title_justify="left")
    for col in ("name", "kind", "TDP W", "low", "central", "high", "spread"):
        t.add_column(col, justify="left" if col in ("name", "kind") else "right")
    for i in items:
        spread = "-" if i.spread is None else f"{i.spread:.1f}x"
        bounds = (
            [f"{i.low_kg:.4g}", f"{i.central_kg:.4g}", f"{i.high_kg:.4g}"]
            if i.embodied_known
            else ["unknown"] * 3
        )
        t.add_row(i.name, i.kind, "-" if i.tdp_w is None else f"{i.tdp_w:g}", *bounds, spread)
    for s in servers:
        lo, c, hi = (s.embodied_kg(b) for b in BOUND_CHOICES)  # type: ignore[arg-type]
        t.add_row(
            s.name,
            "server",
            "-" if s.tdp_w is None else f"{s.tdp_w:g}",
            f"{lo:.4g}",
            f"{c:.4g}",
            f"{hi:.4g}",
            f"{hi / lo:.1f}x",
        )
    ui.console(width=120, soft_wrap=True).print(t)
    return


def _show_item(item: Any) -> None:
    from rich.table import Table

    con = ui.console(width=120, soft_wrap=True)
    per = " per GB" if item.unit == "GB" else ""
    spec = [f"kind {item.kind}"]
    if item.tdp_w is not None:
        spec.append(f"TDP {item.tdp_w:g} W")
    if item.memory_gb is not None:
        spec.append(f"{item.memory_gb:g} GB {item.memory_type or ''}".rstrip())
    con.print(
        f"[b]{item.name}[/b] ({', '.join(spec)})"
        + (f"; aliases: {', '.join(item.aliases)}" if item.aliases else "")
    )
    if not item.embodied_known:
        err = item.unknown_error()
        con.print(f"embodied carbon: [b]unknown[/b]: {err.reason}; {err.how}")
        if item.spec_source:
            con.print(f"specification: {item.spec_source}")
        if item.notes:
            con.print(f"notes: {item.notes}")
        return
    t = Table(title=f"Embodied carbon estimates (kgCO2e{per})", title_justify="left")
    for col in ("bound", "kgCO2e", "scope", "method", "source", "year", "licence"):
        t.add_column(col, overflow="fold")
    for e in item.estimates:
        t.add_row(
            e.bound + (" *" if e.derived else ""),
            f"{e.kgco2e:.4g}",
            e.scope,
            e.method,
            e.source,
            str(e.year),
            e.licence,
        )
    con.print(t)
    if item.spread is not None:
        con.print(
            f"spread high/low: {item.spread:.1f}x"
            + (
                "   (* derived by a documented wattsup rule)"
                if any(e.derived for e in item.estimates)
                else ""
            )
        )
    if item.spec_source:
        con.print(f"specification: {item.spec_source}")
    if item.notes:
        con.print(f"notes: {item.notes}")
    return


def _show_server(item: Any) -> None:
    con = ui.console(width=120, soft_wrap=True)
    lo, c, hi = (item.embodied_kg(b) for b in BOUND_CHOICES)
    con.print(f"[b]{item.name}[/b]: {item.gpu_count} x {item.gpu.name} + {item.host.name}")
    con.print(f"embodied: low {_kg(lo)}, central {_kg(c)}, high {_kg(hi)} (spread {hi / lo:.1f}x)")
    con.print(f"GPU central {_kg(item.gpu.central_kg)} each: {item.gpu.estimate('central').source}")
    con.print(f"host central {_kg(item.host.central_kg)}: {item.host.estimate('central').source}")
    con.print(f"source: {item.source} ({item.year}); licence: {item.licence}")
    if item.notes:
        con.print(f"notes: {item.notes}")


def _server_dict(s: Any) -> dict[str, Any]:
    d: dict[str, Any] = s.model_dump(mode="json")
    d["embodied_kgco2e"] = {b: s.embodied_kg(b) for b in BOUND_CHOICES}
    return d
