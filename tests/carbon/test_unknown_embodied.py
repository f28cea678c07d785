"""Catalog items whose embodied carbon is unknown (issue 20: Jetson Orin, Inferentia2, Apple M-series):
they resolve by the names their sensors and users give, carry their sourced power limit, and every
footprint with them gives energy, operational carbon and water, with embodied ``None`` and the reason."""

from __future__ import annotations

import json

import pytest

from wattsup.carbon import (
    EmbodiedUnknown,
    FootprintInput,
    footprint,
    gpu,
    hardware,
    list_hardware,
    request_life_cycle,
)
from wattsup.cli import main
from wattsup.errors import WattsupError

UNKNOWN_ROWS = {
    # name: (aliases that must resolve to it, sourced power limit in W or None when unpublished)
    "Jetson-AGX-Orin-64GB": (
        ["Orin", "Jetson AGX Orin", "NVIDIA Jetson AGX Orin Developer Kit", "jetson-agx-orin-64gb"],
        60.0,
    ),
    "Jetson-AGX-Orin-32GB": (["Jetson AGX Orin 32GB", "AGX Orin 32GB"], 40.0),
    "Jetson-Orin-NX-16GB": (["Jetson Orin NX", "Orin NX 16GB"], 25.0),
    "Inferentia2": (["Inferentia2", "AWS Inferentia2", "inf2"], None),
    "Apple-M1-Max": (["Apple M1 Max", "M1 Max"], 115.0),
    "Apple-M1-Ultra": (["Apple M1 Ultra"], 215.0),
    "Apple-M2-Max": (["Apple M2 Max", "Mac Studio M2 Max"], 145.0),
    "Apple-M2-Ultra": (["Apple M2 Ultra", "M2 Ultra"], 295.0),
}
DEPLOYMENT = {"region": "FR", "kwh_per_1k": 0.02, "queries_per_day": 1000.0, "years": 1.0}
CLI_DEPLOYMENT = ["--region", "FR", "--kwh-per-1k", "0.02", "--queries-per-day", "1000", "--years", "1"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", sorted(UNKNOWN_ROWS))
def test_each_new_row_resolves_by_its_aliases_with_its_sourced_power(name: str) -> None:
    aliases, power_w = UNKNOWN_ROWS[name]
    for alias in aliases:
        item = gpu(alias)
        assert item.name == name, alias
    assert item.tdp_w == power_w
    assert item.spec_source and item.spec_licence
    assert not item.embodied_known and item.estimates == []
    assert "unknown" in item.notes  # the row says what is not known
    assert item.spread is None


def test_the_sources_are_named_for_what_each_row_gives() -> None:
    assert "Apple support article 102027" in hardware("Apple M2 Max").spec_source
    assert "at the wall" in hardware("Apple M2 Max").notes  # a whole computer's power, not the chip's
    assert "Environmental Reports" in hardware("Apple M2 Max").notes  # why a device footprint is not used
    assert "DS-10662-001" in hardware("Orin").spec_source
    assert "AWS Neuron documentation" in hardware("inf2").spec_source
    assert hardware("inf2").memory_gb == 32 and "power limit unknown" in hardware("inf2").notes


def test_embodied_of_an_unknown_item_raises_a_typed_error_that_says_how_to_give_it() -> None:
    item = hardware("Jetson AGX Orin")
    for ask in (
        item.embodied_kg,
        lambda: item.central_kg,
        lambda: item.low_kg,
        lambda: item.estimate("high"),
    ):
        with pytest.raises(EmbodiedUnknown) as err:
            ask()
        assert isinstance(err.value, WattsupError) and err.value.item == "Jetson-AGX-Orin-64GB"
        assert "unknown" in str(err.value) and "--gpu-embodied-kg" in str(err.value)
        assert "gpu_embodied_kg" in str(err.value)


def test_known_items_are_unchanged() -> None:
    known = [i for i in list_hardware() if i.embodied_known]
    assert len(known) >= 25 and all(len(i.estimates) >= 3 for i in known)
    assert hardware("MI300X").embodied_known and hardware("Max 1550").central_kg > 0


@pytest.mark.parametrize("name", ["Orin", "Inferentia2", "Apple M2 Max"])
def test_python_footprint_gives_energy_operational_water_and_embodied_none_with_reason(name: str) -> None:
    power = {"power_w": 80.0} if name == "Inferentia2" else {}
    fp = footprint(
        FootprintInput(gpu=name, wue_l_per_kwh=1.0, water_intensity_l_per_kwh=2.0, **DEPLOYMENT, **power)
    )
    inf = fp.inference
    assert inf is not None
    assert inf.energy_kwh == pytest.approx(0.02 * 365)
    assert fp.operational_kgco2e > 0 and inf.gpu_hours is not None and inf.gpu_hours > 0
    assert fp.water_l == pytest.approx(0.02 * 365 * (1.0 + fp.assumptions.pue * 2.0))
    assert fp.embodied_kgco2e is None and inf.embodied_kgco2e is None and fp.total_kgco2e is None
    assert fp.assumptions.gpu_embodied_kg is None
    assert fp.assumptions.gpu_embodied_source.startswith("unknown: no published embodied-carbon figure")
    assert "--gpu-embodied-kg" in fp.assumptions.gpu_embodied_source
    assert any("is unknown" in n for n in fp.assumptions.notes)
    # the known part of the total is there, and says it excludes embodied
    assert fp.total_excluding_embodied_kgco2e == pytest.approx(fp.operational_kgco2e + fp.construction_kgco2e)
    assert any("excludes embodied" in n for n in fp.assumptions.notes)


def test_an_override_makes_embodied_known() -> None:
    fp = footprint(FootprintInput(gpu="Orin", gpu_embodied_kg=40.0, host="none", **DEPLOYMENT))
    inf = fp.inference
    assert inf is not None and inf.gpu_hours is not None
    # amortised: 40 kg x GPU-hours / (5 years x 0.85 utilisation)
    assert fp.embodied_kgco2e == pytest.approx(40.0 * inf.gpu_hours / (5 * 8760 * 0.85))
    assert fp.total_kgco2e == pytest.approx(
        fp.operational_kgco2e + fp.embodied_kgco2e + fp.construction_kgco2e
    )
    assert fp.assumptions.gpu_embodied_source == "given (--gpu-embodied-kg)"
    # the GPU alone known, the host not: still unknown, and the host line says why
    half = footprint(FootprintInput(gpu="Orin", gpu_embodied_kg=40.0, **DEPLOYMENT))
    assert half.embodied_kgco2e is None
    assert "Jetson-AGX-Orin-64GB has no catalog host" in half.assumptions.host_embodied_source


def test_request_life_cycle_with_an_unknown_item() -> None:
    base = {
        "region": "FR",
        "requests": 10,
        "output_tokens": 1000,
        "duration_s": 60.0,
        "gpus": 1,
        "gpu_model": "Jetson AGX Orin",
        "components": [{"name": "gpu:0", "energy_j": 1200.0, "method": "sampled", "error_bound_j": 60.0}],
    }
    lc = request_life_cycle(base)
    assert lc.gpu == "Jetson-AGX-Orin-64GB" and lc.gpu_embodied_kg is None
    assert (
        lc.gpu_embodied_source.startswith("unknown: no published")
        and "gpu_embodied_kg" in lc.gpu_embodied_source
    )
    assert lc.active.window.energy_wh == pytest.approx(1200.0 / 3600.0)
    assert lc.active.window.operational_location_g > 0 and lc.active.window.embodied_g is None
    given = request_life_cycle({**base, "gpu_embodied_kg": 40.0})
    assert given.active.window.embodied_g is not None and given.active.window.embodied_g > 0


def test_cli_footprint_text_says_unknown_and_totals_exclude_embodied(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "footprint", "--gpu", "Apple M2 Max", *CLI_DEPLOYMENT)
    assert code == 0 and "Traceback" not in out + err
    assert "excl." in out  # the table's totals (the cell wraps)
    assert "totals shown" in out and "exclude embodied" in out
    assert "no published embodied-carbon figure" in out and "--gpu-embodied-kg" in out


def test_cli_footprint_json_and_override(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "footprint", "--gpu", "Jetson AGX Orin", *CLI_DEPLOYMENT, "--json")
    assert code == 0
    d = json.loads(out)
    assert d["embodied_kgco2e"] is None and d["total_kgco2e"] is None
    assert d["inference"]["energy_kwh"] == pytest.approx(0.02 * 365)
    assert d["operational_kgco2e"] > 0 and d["water_onsite_l"] > 0
    assert d["total_excluding_embodied_kgco2e"] == pytest.approx(
        d["operational_kgco2e"] + d["construction_kgco2e"]
    )
    assert d["assumptions"]["gpu_embodied_source"].startswith("unknown: ")
    code, out, _ = run(
        capsys,
        "footprint",
        "--gpu",
        "Orin",
        *CLI_DEPLOYMENT,
        "--gpu-embodied-kg",
        "40",
        "--host",
        "none",
        "--json",
    )
    assert code == 0
    d = json.loads(out)
    assert d["embodied_kgco2e"] is not None and d["embodied_kgco2e"] > 0 and d["total_kgco2e"] is not None


def test_cli_hardware_shows_unknown_with_why(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "hardware", "Inferentia2")
    assert code == 0 and "Traceback" not in out + err
    assert "embodied carbon: unknown" in out and "--gpu-embodied-kg" in out
    assert "AWS Neuron documentation" in out
    code, out, _ = run(capsys, "hardware", "Orin", "--json")
    d = json.loads(out)
    assert d["estimates"] == [] and d["embodied_unknown"].startswith("no published")
    code, out, _ = run(capsys, "hardware", "--list")
    assert code == 0
    row = next(line for line in out.splitlines() if "Jetson-AGX-Orin-64GB" in line)
    assert row.count("unknown") == 3


def test_the_unknown_marker_needs_a_note_and_yields_to_a_published_figure() -> None:
    from wattsup.carbon.hardware import EmbodiedEstimate, _unknown_reason

    row = {"name": "X-1", "dies": "unknown", "notes": ""}
    with pytest.raises(ValueError, match="X-1 has unknown embodied carbon but no notes"):
        _unknown_reason(row, [])
    assert _unknown_reason({**row, "notes": "nothing published"}, []) == (
        "no published embodied-carbon figure and no published die areas for X-1"
    )
    published = EmbodiedEstimate(
        bound="central", kgco2e=10.0, scope="gpu", method="m", source="s", year=2024, licence="l"
    )
    assert _unknown_reason(row, [published]) is None  # a published central makes it known
    assert _unknown_reason({**row, "dies": "800@5"}, []) is None  # die areas: the parametric model


def test_what_if_to_an_unknown_item_shows_the_total_excluding_embodied(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "footprint", "--gpu", "H100", *CLI_DEPLOYMENT, "--what-if", "gpu=Orin")
    assert code == 0 and "Traceback" not in out + err
    (row,) = [line for line in out.splitlines() if "gpu=Orin" in line]
    assert "excl. embodied" in row and "unknown" not in row  # the known part, labelled; never 0
