"""Catalog rows added for the accelerators the device protocol measures (issue 20): sourced power limits,
and embodied figures that say they are the parametric model's where no LCA is published."""

from __future__ import annotations

import pytest

from wattsup.carbon import hardware


@pytest.mark.parametrize("name", ["Intel Data Center GPU Max 1550", "Max 1550", "Ponte Vecchio", "PVC"])
def test_max_1550_is_in_the_catalog_with_its_sourced_power_limit(name: str) -> None:
    item = hardware(name)
    assert item.name == "Max-1550" and item.kind == "gpu" and item.vendor == "Intel"
    assert item.tdp_w == 600 and item.memory_gb == 128 and item.memory_type == "hbm"
    assert "Intel ARK 232873" in item.spec_source and "640 mm2" in item.spec_source


def test_max_1550_embodied_is_labelled_as_modelled_not_published() -> None:
    item = hardware("Max-1550")
    assert all(e.derived for e in item.estimates)
    assert item.estimate("central").method.startswith("parametric")
    assert "no published LCA" in item.notes
    # two 640 mm2 base tiles + 1050 mm2 of other tiles: the 2330 mm2 of silicon the source gives
    assert sum(d.area_mm2 * d.count for d in item.dies) == pytest.approx(2330)
