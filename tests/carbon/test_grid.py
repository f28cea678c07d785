"""Region lookup: codes, names, states, provinces and cloud regions."""

from __future__ import annotations

import pytest

from wattsup.carbon import default_pue, grid_intensity
from wattsup.errors import InvalidInput, NotFound


@pytest.mark.parametrize("query", ["FR", "fr", "FRA", "France", "french republic", " france "])
def test_country_forms(query: str) -> None:
    assert grid_intensity(query).code == "FRA"


def test_us_state_maps_to_egrid_subregion() -> None:
    g = grid_intensity("US-CA")
    assert g.via == ["US-CA", "CAMX"]
    assert g.intensity_g_per_kwh == grid_intensity("CAMX").intensity_g_per_kwh
    assert "eGRID2022" in g.source
    assert grid_intensity("California").code == "US-CA"


def test_country_wins_over_state_on_a_shared_name() -> None:
    assert grid_intensity("Georgia").code == "GEO"
    assert grid_intensity("US-GA").via[-1] == "SRSO"


def test_canadian_province() -> None:
    g = grid_intensity("CA-QC")
    assert g.kind == "ca-province" and g.intensity_g_per_kwh < 50
    assert grid_intensity("CA").code == "CAN"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("aws:us-west-2", "aws:us-west-2"),
        ("AWS/us-west-2", "aws:us-west-2"),
        ("us-west-2", "aws:us-west-2"),
        ("gcp:europe-west1", "gcp:europe-west1"),
        ("europe-west1", "gcp:europe-west1"),
        ("google:us-central1", "gcp:us-central1"),
        ("azure:westeurope", "azure:westeurope"),
        ("westeurope", "azure:westeurope"),
    ],
)
def test_cloud_regions(query: str, code: str) -> None:
    assert grid_intensity(query).code == code


def test_cloud_region_mapped_to_grid() -> None:
    g = grid_intensity("aws:eu-west-3")
    assert g.via == ["aws:eu-west-3", "FRA"]
    assert g.intensity_g_per_kwh == 56.0
    assert g.provider == "aws"


def test_gcp_uses_google_published_value_and_cfe() -> None:
    g = grid_intensity("gcp:europe-west1")
    assert g.intensity_g_per_kwh == 122
    assert g.cfe_fraction == pytest.approx(0.82)
    assert "Google" in g.source and g.year == 2023


def test_proxy_territory() -> None:
    g = grid_intensity("Monaco")
    assert g.via == ["MCO", "FRA"] and "proxy" in g.notes


def test_typo_suggests_closest() -> None:
    with pytest.raises(NotFound) as err:
        grid_intensity("Frnace")
    assert "France" in err.value.suggestions


def test_empty_region() -> None:
    with pytest.raises(InvalidInput, match="--region"):
        grid_intensity("  ")


def test_provider_pue() -> None:
    assert default_pue("gcp").pue == pytest.approx(1.10)
    assert default_pue(None).pue == 1.56
    with pytest.raises(NotFound):
        default_pue("oracle")
