"""The text of ``wattsup footprint``: the carbon table per phase, water, parity, the assumptions with their
sources, notes and the what-if scenarios."""

from __future__ import annotations

from typing import Any

from wattsup.cli import ui
from wattsup.format import kg as _kg
from wattsup.format import litres as _litres


def _big(v: float | None) -> str:
    if v is None:
        return "unknown"
    return f"{v:,.0f}" if v >= 1000 else f"{v:,.3g}"


def _total(total: float | None, excluding_embodied: float) -> str:
    """A total, or, when embodied carbon is unknown, the known part labelled as excluding it."""
    return _kg(total) if total is not None else f"{_kg(excluding_embodied)} excl. embodied"


def _phases(result: Any) -> Any:
    from rich.table import Table

    t = Table(title="Life-cycle carbon (kgCO2e)", title_justify="left")
    cols = ("phase", "energy", "operational (location)", "operational (market)", "embodied", "construction")
    for col in (*cols, "total"):
        t.add_column(col, justify="left" if col == "phase" else "right")
    for p in (result.training, result.inference):
        if p is None:
            continue
        label = p.phase if p.inferences is None else f"{p.phase} ({_big(p.inferences)} inferences)"
        energy = f"{_big(p.energy_kwh)} kWh"
        if p.idle_energy_kwh is not None:
            energy += f" + {_big(p.idle_energy_kwh)} idle"
        t.add_row(
            label,
            energy,
            _kg(p.operational_kgco2e),
            _kg(p.operational_market_kgco2e),
            _kg(p.embodied_kgco2e),
            _kg(p.construction_kgco2e),
            _total(p.total_kgco2e, p.total_excluding_embodied_kgco2e),
        )
    t.add_row(
        "[b]all[/b]",
        "",
        f"[b]{_kg(result.operational_kgco2e)}[/b]",
        _kg(result.operational_market_kgco2e),
        f"[b]{_kg(result.embodied_kgco2e)}[/b]",
        f"[b]{_kg(result.construction_kgco2e)}[/b]",
        f"[b]{_total(result.total_kgco2e, result.total_excluding_embodied_kgco2e)}[/b]",
    )
    return t


def _summary_lines(result: Any) -> list[str]:
    lines = []
    if result.total_kgco2e is None:
        lines.append(
            "Embodied carbon is unknown (see the assumptions): totals shown "
            f"({_kg(result.total_excluding_embodied_kgco2e)}) exclude embodied."
        )
    if result.operational_idle_kgco2e is not None:
        lines.append(
            f"Operational includes {_kg(result.operational_idle_kgco2e)} of idle and infrastructure energy."
        )
    lines.append(
        f"Water: {_litres(result.water_l)} (on site {_litres(result.water_onsite_l)}, off site for the "
        f"electricity {_litres(result.water_offsite_l)})."
    )
    if result.parity_inferences is not None:
        days = f" ({_big(result.parity_days)} days of queries)" if result.parity_days is not None else ""
        lines.append(
            "Cost parity: inference energy equals training after "
            f"{_big(result.parity_inferences)} inferences{days}."
        )
    return lines


def _site_rows(a: Any) -> list[tuple[str, str, str]]:
    region = f"{a.region} ({a.region_name})" if a.region else "-"
    ci = "-" if a.intensity_g_per_kwh is None else f"{a.intensity_g_per_kwh:g} gCO2e/kWh"
    mi = "-" if a.market_intensity_g_per_kwh is None else f"{a.market_intensity_g_per_kwh:.4g} gCO2e/kWh"
    wue = "unknown" if a.wue_l_per_kwh is None else f"{a.wue_l_per_kwh:g} L/kWh"
    ewif = "unknown" if a.water_intensity_l_per_kwh is None else f"{a.water_intensity_l_per_kwh:g} L/kWh"
    return [
        ("region", region, " > ".join(a.intensity_via)),
        ("intensity", ci, a.intensity_source),
        ("market-based", mi, a.market_basis),
        ("PUE", f"{a.pue:g}", a.pue_source),
        ("water on site (WUE)", wue, a.wue_source),
        ("water off site (grid)", ewif, a.water_intensity_source),
    ]


def _hardware_rows(a: Any) -> list[tuple[str, str, str]]:
    cpu = a.device == "cpu"
    name, count = (a.cpu, a.cpus) if cpu else (a.gpu, a.gpus)
    label = "CPU" if cpu else "GPU"
    power = "-" if a.power_w is None else format(a.power_w, "g")
    device_kg, device_source = (
        (a.cpu_embodied_kg, a.cpu_embodied_source) if cpu else (a.gpu_embodied_kg, a.gpu_embodied_source)
    )
    per_host = a.cpus_per_host if cpu else a.gpus_per_host
    rows = [
        ("hardware", f"{count} x {name}" if name else "-", f"power {power} W per {label}: {a.power_basis}"),
        (f"embodied per {label} ({a.embodied_bound})", _kg(device_kg), device_source or ""),
        (
            "host",
            f"{a.host or '-'}: {_kg(a.host_embodied_kg)} / {per_host or '-'} {label}s",
            a.host_embodied_source,
        ),
        ("lifetime", f"{a.lifetime_years:g} years", a.lifetime_source),
        ("utilisation", f"{a.utilization:g}", a.utilization_source),
        ("idle", "", a.idle),
        ("construction", f"{a.construction_share:g} of site emissions", a.construction_source),
        ("end of life", "", a.end_of_life),
    ]
    if a.profile:
        rows.append(("profile", a.profile, ""))
    return rows


def _assumptions(a: Any) -> Any:
    from rich.table import Table

    at = Table(title="Assumptions", title_justify="left", show_header=False)
    at.add_column("what")
    at.add_column("value")
    at.add_column("source", overflow="fold")
    for row in (*_site_rows(a), *_hardware_rows(a)):
        at.add_row(*row)
    return at


def _scenarios(scenarios: list[Any]) -> Any:
    from rich.table import Table

    st = Table(title="What if", title_justify="left")
    for col in ("scenario", "total", "change"):
        st.add_column(col, justify="left" if col == "scenario" else "right")
    for s in scenarios:
        if s.basis == "operational":
            total = _kg(s.footprint.operational_kgco2e)
        else:
            total = _total(s.total_kgco2e, s.footprint.total_excluding_embodied_kgco2e)
        change = "-" if s.delta_fraction is None else f"{s.delta_fraction:+.1%}"
        label = s.label + (" (operational only)" if s.basis == "operational" else "")
        if s.window:
            label += f" [{s.window[0]:%Y-%m-%d %H:%M}Z to {s.window[1]:%Y-%m-%d %H:%M}Z]"
        st.add_row(label, total, change)
    return st


def print_footprint(result: Any, scenarios: list[Any]) -> None:
    con = ui.console(width=120, soft_wrap=True)
    con.print(_phases(result))
    for line in _summary_lines(result):
        con.print(line)
    con.print(_assumptions(result.assumptions))
    for n in result.assumptions.notes:
        con.print(f"note: {n}")
    if scenarios:
        con.print(_scenarios(scenarios))
