"""Water: on-site WUE and off-site grid water intensity, with sources; unknown is None and said so."""

from __future__ import annotations

import json

import pytest

from wattsup.carbon import (
    FootprintInput,
    country_of,
    footprint,
    grid_water_intensity,
    onsite_wue,
    water_factors,
    water_l,
)
from wattsup.cli import main
from wattsup.errors import InvalidInput, NotFound


def test_water_formula_with_given_factors() -> None:
    w = water_l(1000, wue=0.5, pue=1.2, water_intensity=2.0)
    assert w.onsite_l == pytest.approx(500)  # E x WUE
    assert w.offsite_l == pytest.approx(2400)  # E x PUE x EWIF
    assert w.total_l == pytest.approx(2900)
    assert w.wue_source == "given (--wue)" and w.water_intensity_source == "given (--water-intensity)"


def test_provider_and_grid_defaults_carry_sources() -> None:
    w = water_l(1000, "aws:us-east-1")
    assert w.wue_l_per_kwh == 0.15 and "Amazon" in w.wue_source and "2024" in w.wue_source
    assert w.pue == 1.15
    assert w.water_intensity_l_per_kwh == 7.6 and "Shehabi" in w.water_intensity_source
    assert w.total_l == pytest.approx(1000 * 0.15 + 1000 * 1.15 * 7.6)
    assert onsite_wue("azure").l_per_kwh == 0.30
    assert onsite_wue().l_per_kwh == 1.8  # a site of unknown provenance
    assert country_of("gcp:us-central1") == "USA" and country_of("CA-QC") == "CAN"


def test_unknown_is_none_and_said_so() -> None:
    gcp = water_l(1000, "gcp:europe-west1")
    assert gcp.wue_l_per_kwh is None and gcp.onsite_l is None
    assert "pass --wue" in gcp.wue_source
    assert gcp.water_intensity_l_per_kwh is None and gcp.offsite_l is None and gcp.total_l is None
    assert "BEL" in gcp.water_intensity_source and "--water-intensity" in gcp.water_intensity_source
    fr = grid_water_intensity("FR")
    assert fr.l_per_kwh is None and fr.key == "FRA" and fr.checked == "not found"
    nowhere = water_l(10)
    assert nowhere.onsite_l == pytest.approx(18) and nowhere.offsite_l is None and nowhere.total_l is None


def test_every_shipped_value_names_its_source() -> None:
    rows = water_factors()
    assert {(r.kind, r.key) for r in rows} >= {("onsite", "aws"), ("onsite", "unknown"), ("offsite", "USA")}
    for r in rows:
        assert r.source and r.year is not None and r.url.startswith("https://") and r.checked, r
        if r.l_per_kwh is None:
            assert "not found" in r.checked and "unknown" in r.notes
        else:
            assert 0 <= r.l_per_kwh < 20


def test_bad_water_input_names_the_flag() -> None:
    with pytest.raises(InvalidInput, match="--wue"):
        water_l(1, wue=-1)
    with pytest.raises(InvalidInput, match="--water-intensity"):
        water_l(1, water_intensity=float("nan"))
    with pytest.raises(NotFound, match="WUE key"):
        onsite_wue("ibm")


def test_footprint_reports_water_per_phase_idle_included() -> None:
    inp = FootprintInput(
        region="US-CA",
        gpu="A100",
        training_kwh=1000,
        idle_kwh=500,
        kwh_per_1k=0.1,
        queries_per_day=1000,
        years=1,
    )
    f = footprint(inp)
    assert f.training is not None and f.inference is not None
    pue = f.assumptions.pue
    assert f.training.water_onsite_l == pytest.approx(1500 * 1.8)
    assert f.training.water_offsite_l == pytest.approx(1500 * pue * 7.6)
    assert f.water_l == pytest.approx(f.training.water_l + f.inference.water_l)  # type: ignore[operator]
    assert f.assumptions.wue_l_per_kwh == 1.8 and f.assumptions.water_intensity_l_per_kwh == 7.6
    assert not any("water total unknown" in n for n in f.assumptions.notes)


def test_footprint_water_unknown_is_not_zero() -> None:
    f = footprint(FootprintInput(region="FR", training_kwh=100))
    assert f.water_onsite_l == pytest.approx(180) and f.water_offsite_l is None and f.water_l is None
    assert any("water total unknown" in n and "--water-intensity" in n for n in f.assumptions.notes)
    given = footprint(FootprintInput(region="FR", training_kwh=100, water_intensity_l_per_kwh=1.0))
    assert given.water_l == pytest.approx(100 * 1.8 + 100 * 1.56 * 1.0)


def test_water_via_cli(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["footprint", "--energy-kwh", "1000", "--region", "FR", "--wue", "0.2", "--water-intensity", "1.5"]
    assert main([*args, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["water_onsite_l"] == pytest.approx(200) and d["water_offsite_l"] == pytest.approx(
        1000 * 1.56 * 1.5
    )
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Water: 2.54 m³ (on site 200.00 L" in out and "given (--wue)" in out
    assert main(["footprint", "--energy-kwh", "1", "--region", "FR"]) == 0
    out = capsys.readouterr().out
    assert "Water: unknown" in out and "water total unknown" in out
    assert main(["footprint", "--energy-kwh", "1", "--region", "FR", "--wue", "-1"]) == 2
    assert "--wue" in capsys.readouterr().err
