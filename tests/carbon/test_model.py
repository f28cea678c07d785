"""Formulas: operational, market-based, amortisation, parity; the BLOOM-176B worked example; properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wattsup.carbon import (
    FootprintInput,
    amortised_embodied_kg,
    carbon_per_area_kg_per_cm2,
    construction_kg,
    footprint,
    hourly_operational_kg,
    market_intensity,
    operational_kg,
    parity_inferences,
)
from wattsup.errors import InvalidInput

energy = st.floats(min_value=0, max_value=1e7, allow_nan=False)
intensity = st.floats(min_value=0, max_value=1500, allow_nan=False)
pue = st.floats(min_value=1.0, max_value=3.0, allow_nan=False)


def test_operational_formula() -> None:
    assert operational_kg(1000, 400, 1.5) == pytest.approx(600.0)


@given(e=energy, k=st.floats(min_value=0, max_value=100, allow_nan=False), ci=intensity, p=pue)
def test_operational_is_linear_in_energy(e: float, k: float, ci: float, p: float) -> None:
    assert operational_kg(k * e, ci, p) == pytest.approx(k * operational_kg(e, ci, p), rel=1e-9, abs=1e-9)


@given(e=energy, ci=intensity, p=pue, cfe=st.floats(min_value=0, max_value=1, exclude_min=True))
def test_market_at_most_location_when_cfe_positive(e: float, ci: float, p: float, cfe: float) -> None:
    m = market_intensity(ci, cfe_fraction=cfe)
    assert m is not None
    assert operational_kg(e, m, p) <= operational_kg(e, ci, p) + 1e-9


def test_market_unknown_without_contract() -> None:
    assert market_intensity(400) is None
    assert market_intensity(400, contractual_g_per_kwh=0) == 0


def test_hourly_sum() -> None:
    assert hourly_operational_kg([1, 2], [100, 300], 1.0) == pytest.approx(0.7)
    with pytest.raises(InvalidInput, match="--profile"):
        hourly_operational_kg([1], [1, 2])


@given(
    c=st.floats(min_value=0, max_value=1e4, allow_nan=False),
    h=st.floats(min_value=0, max_value=1e5, allow_nan=False),
    life=st.floats(min_value=0.1, max_value=20, allow_nan=False),
    extra=st.floats(min_value=0.1, max_value=10, allow_nan=False),
    u=st.floats(min_value=0.01, max_value=1, allow_nan=False),
)
def test_amortisation_monotonic_in_lifetime_and_utilisation(
    c: float, h: float, life: float, extra: float, u: float
) -> None:
    base = amortised_embodied_kg(c, h, life, u)
    assert amortised_embodied_kg(c, h, life + extra, u) <= base + 1e-12
    assert amortised_embodied_kg(c, h, life, min(1.0, u * 1.5)) <= base + 1e-12


def test_amortisation_whole_life_at_full_use_is_the_whole_footprint() -> None:
    assert amortised_embodied_kg(150, 6 * 8760, 6, 1.0) == pytest.approx(150)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("--utilization", {"utilization": 0.0}),
        ("--utilization", {"utilization": 1.2}),
        ("--lifetime-years", {"lifetime_years": 0.0}),
        ("--lifetime-years", {"lifetime_years": -1.0}),
        ("--embodied-kg", {"embodied_kg": math.nan}),
        ("--gpu-hours", {"hours": math.inf}),
    ],
)
def test_amortisation_rejects_bad_input(field: str, kwargs: dict[str, float]) -> None:
    args = {"embodied_kg": 100.0, "hours": 10.0, "lifetime_years": 5.0, "utilization": 0.5} | kwargs
    with pytest.raises(InvalidInput, match=field):
        amortised_embodied_kg(**args)


def test_construction_share() -> None:
    # construction is 1.5% of lifetime emissions: it adds 0.015 / 0.985 of the operational emissions
    assert construction_kg(985.0, 0.015) == pytest.approx(15.0)
    assert construction_kg(985.0, 0.0) == 0.0


def test_act_carbon_per_area() -> None:
    # (583 g/kWh x 2.15 kWh/cm2 + 350 g + 500 g) / 0.875 at 7 nm with ACT's defaults
    assert carbon_per_area_kg_per_cm2(7) == pytest.approx((0.583 * 2.15 + 0.35 + 0.5) / 0.875)
    assert carbon_per_area_kg_per_cm2(12) == carbon_per_area_kg_per_cm2(14)
    assert carbon_per_area_kg_per_cm2(4) == carbon_per_area_kg_per_cm2(5)


# ---- Power Hungry Processing (Luccioni, Jernite, Strubell 2024), cost parity table


@pytest.mark.parametrize(
    ("training_kwh", "finetune_kwh", "kwh_per_inference", "parity"),
    [
        (51_686, 7_571, 1.0e-4, 592_570_000),  # BLOOMz-7B
        (17_052, 2_054, 6.2e-5, 308_161_290),  # BLOOMz-1B7
        (10_505, 1_321, 5.4e-5, 219_000_000),  # BLOOMz-560M
    ],
)
def test_cost_parity_power_hungry_processing(
    training_kwh: float, finetune_kwh: float, kwh_per_inference: float, parity: float
) -> None:
    assert parity_inferences(training_kwh, kwh_per_inference, finetune_kwh) == pytest.approx(parity, rel=1e-6)
    f = footprint(
        FootprintInput(
            intensity_g_per_kwh=100,
            training_kwh=training_kwh,
            finetune_kwh=finetune_kwh,
            kwh_per_1k=kwh_per_inference * 1000,
            queries_per_day=1e6,
            years=1,
        )
    )
    assert f.parity_inferences == pytest.approx(parity, rel=1e-6)
    assert f.parity_days == pytest.approx(parity / 1e6, rel=1e-6)


def test_parity_never_reached_is_none() -> None:
    assert parity_inferences(100, 0) is None


@given(t=st.floats(min_value=0, max_value=1e6), per=st.floats(min_value=1e-9, max_value=10))
def test_parity_property(t: float, per: float) -> None:
    p = parity_inferences(t, per)
    assert p is not None and p * per == pytest.approx(t, rel=1e-9, abs=1e-9)


# ---- BLOOM-176B (Luccioni, Viguier, Ligozat 2022)

BLOOM = FootprintInput(
    intensity_g_per_kwh=57,
    pue=1.0,
    training_gpu_hours=1_082_990,
    power_w=400,
    gpu="A100-SXM4-80GB",
    gpu_embodied_kg=150,
    host="host-apollo6500",
    lifetime_years=6,
    utilization=0.85,
    construction_share=0,
)


def test_bloom_dynamic_operational() -> None:
    f = footprint(BLOOM)
    assert f.training is not None
    assert f.training.energy_kwh == pytest.approx(433_196)
    assert f.operational_kgco2e / 1000 == pytest.approx(24.7, rel=0.02)


def test_bloom_idle_and_infrastructure() -> None:
    f = footprint(BLOOM.model_copy(update={"training_gpu_hours": None, "training_kwh": 256_646}))
    assert f.operational_kgco2e / 1000 == pytest.approx(14.6, rel=0.02)


def test_bloom_embodied() -> None:
    f = footprint(BLOOM)
    assert f.embodied_kgco2e is not None
    assert f.embodied_kgco2e / 1000 == pytest.approx(11.2, rel=0.02)
    gpus_only = footprint(BLOOM.model_copy(update={"host": "none"}))
    assert gpus_only.embodied_kgco2e is not None
    assert gpus_only.embodied_kgco2e / 1000 == pytest.approx(3.6, rel=0.02)
    assert (f.embodied_kgco2e - gpus_only.embodied_kgco2e) / 1000 == pytest.approx(7.6, rel=0.02)


BLOOM_DYNAMIC_KWH = 433_196
BLOOM_IDLE_KWH = 256_646  # idle and infrastructure consumption of the allocation (the paper's 14.6 t)
BLOOM_TOTAL_T = 50.5


def test_bloom_total_with_the_papers_idle_energy() -> None:
    """The paper's own assumptions, idle energy included, reproduce its 50.5 t total within 5%."""
    f = footprint(BLOOM.model_copy(update={"idle_kwh": BLOOM_IDLE_KWH}))
    assert f.training is not None and f.total_kgco2e is not None
    assert f.training.energy_kwh == pytest.approx(BLOOM_DYNAMIC_KWH)
    assert f.training.idle_energy_kwh == BLOOM_IDLE_KWH
    assert f.operational_idle_kgco2e is not None
    assert f.operational_idle_kgco2e / 1000 == pytest.approx(14.6, rel=0.01)
    assert (f.operational_kgco2e - f.operational_idle_kgco2e) / 1000 == pytest.approx(24.7, rel=0.01)
    assert f.total_kgco2e / 1000 == pytest.approx(BLOOM_TOTAL_T, rel=0.05)
    assert f.total_kgco2e / 1000 == pytest.approx(BLOOM_TOTAL_T, rel=0.01)  # 50.53 t in fact
    assert "--idle-kwh" in f.assumptions.idle


def test_bloom_total_with_an_idle_share() -> None:
    share = BLOOM_IDLE_KWH / (BLOOM_IDLE_KWH + BLOOM_DYNAMIC_KWH)  # 0.372 of the allocation's energy
    f = footprint(BLOOM.model_copy(update={"idle_share": round(share, 3)}))
    assert f.training is not None and f.training.idle_energy_kwh is not None
    assert f.training.idle_energy_kwh == pytest.approx(BLOOM_IDLE_KWH, rel=0.01)
    assert f.total_kgco2e is not None
    assert f.total_kgco2e / 1000 == pytest.approx(BLOOM_TOTAL_T, rel=0.05)


def test_without_idle_energy_the_total_falls_short_and_says_so() -> None:
    f = footprint(BLOOM)
    assert f.operational_idle_kgco2e is None
    assert f.training is not None and f.training.idle_energy_kwh is None
    assert f.total_kgco2e is not None and f.total_kgco2e / 1000 == pytest.approx(35.9, rel=0.01)
    assert "not included" in f.assumptions.idle


def test_idle_share_applies_to_inference_too() -> None:
    base = FootprintInput(intensity_g_per_kwh=100, pue=1.0, kwh_per_1k=1.0, queries_per_day=1000, years=1)
    f = footprint(base.model_copy(update={"idle_share": 0.5}))
    assert f.inference is not None and f.inference.idle_energy_kwh == pytest.approx(f.inference.energy_kwh)
    assert f.operational_kgco2e == pytest.approx(2 * footprint(base).operational_kgco2e)


@pytest.mark.parametrize(
    ("update", "flag"),
    [
        ({"idle_share": 1.0}, "--idle-share"),
        ({"idle_share": -0.1}, "--idle-share"),
        ({"idle_kwh": -1.0}, "--idle-kwh"),
        ({"idle_kwh": 10.0, "idle_share": 0.2}, "--idle-share"),
    ],
)
def test_bad_idle_input_names_the_flag(update: dict[str, float], flag: str) -> None:
    with pytest.raises(InvalidInput, match=flag):
        footprint(BLOOM.model_copy(update=update))


def test_idle_kwh_needs_a_training_phase() -> None:
    with pytest.raises(InvalidInput, match="--idle-kwh"):
        footprint(
            FootprintInput(intensity_g_per_kwh=100, kwh_per_1k=1.0, queries_per_day=1, years=1, idle_kwh=5.0)
        )
