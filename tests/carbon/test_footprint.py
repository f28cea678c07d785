"""The Footprint: phases, unknowns, assumptions, measurement input and what-if levers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattsup.carbon import (
    FootprintInput,
    footprint,
    footprint_from_measurement,
    kwh_per_1k,
    parse_profile,
    what_if,
)
from wattsup.errors import InvalidInput, NotFound
from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement

SYSTEM = FootprintInput(
    region="FR",
    gpu="H100",
    gpus=8,
    training_kwh=50_000,
    kwh_per_1k=0.05,
    queries_per_day=1_000_000,
    years=2,
)


def test_system_footprint_splits_phases() -> None:
    f = footprint(SYSTEM)
    assert f.training is not None and f.inference is not None
    for p in (f.training, f.inference):
        assert p.operational_kgco2e > 0
        assert p.embodied_kgco2e is not None and p.embodied_kgco2e > 0
        assert p.total_kgco2e == pytest.approx(
            p.operational_kgco2e + p.embodied_kgco2e + p.construction_kgco2e
        )
    assert f.operational_kgco2e == pytest.approx(
        f.training.operational_kgco2e + f.inference.operational_kgco2e
    )
    assert f.total_kgco2e == pytest.approx(
        f.operational_kgco2e + (f.embodied_kgco2e or 0) + f.construction_kgco2e
    )
    assert f.inference.inferences == pytest.approx(1e6 * 365 * 2)
    assert f.inference.energy_kwh == pytest.approx(0.05 * 1e6 * 365 * 2 / 1000)
    assert f.parity_inferences == pytest.approx(50_000 / 0.05e-3)


def test_construction_is_its_own_line_not_in_embodied() -> None:
    f = footprint(SYSTEM)
    assert f.training is not None and f.inference is not None
    for p in (f.training, f.inference):
        assert p.construction_kgco2e > 0
        # embodied is the hardware alone (no end of life given): construction is not folded into it
        assert p.embodied_kgco2e == pytest.approx(p.embodied_hardware_kgco2e)
        assert p.construction_kgco2e == pytest.approx(p.operational_kgco2e * 0.015 / 0.985)
    assert f.construction_kgco2e == pytest.approx(
        f.training.construction_kgco2e + f.inference.construction_kgco2e
    )
    no_site = footprint(SYSTEM.model_copy(update={"construction_share": 0.0}))
    assert no_site.embodied_kgco2e == pytest.approx(f.embodied_kgco2e)
    assert f.total_kgco2e is not None and no_site.total_kgco2e is not None
    assert f.total_kgco2e - no_site.total_kgco2e == pytest.approx(f.construction_kgco2e)


def test_assumptions_are_reported() -> None:
    a = footprint(SYSTEM).assumptions
    assert a.region == "FRA" and a.intensity_g_per_kwh == 56.0 and a.intensity_year == 2023
    assert "CC BY 4.0" in a.intensity_source
    assert a.pue == 1.56 and "Uptime" in a.pue_source
    assert a.gpu == "H100-SXM5-80GB" and a.power_w == 700 and "TDP" in a.power_basis
    assert a.embodied_bound == "central" and a.gpu_embodied_kg == 164
    assert a.host == "host-hgx-h100" and a.host_embodied_kg == 5700 and a.gpus_per_host == 8
    assert a.embodied_per_gpu_kg == pytest.approx(164 + 5700 / 8)
    assert a.lifetime_years == 5 and a.utilization == 0.85
    assert "not included" in a.end_of_life


def test_operational_uses_pue_and_intensity() -> None:
    f = footprint(FootprintInput(intensity_g_per_kwh=400, pue=1.2, training_kwh=100))
    assert f.operational_kgco2e == pytest.approx(100 * 1.2 * 400 / 1000)


def test_embodied_unknown_is_none_not_zero() -> None:
    f = footprint(FootprintInput(region="DE", training_kwh=100))
    assert f.embodied_kgco2e is None and f.total_kgco2e is None
    assert f.training is not None and f.training.embodied_hardware_kgco2e is None
    assert any("embodied carbon unknown" in n for n in f.assumptions.notes)


def test_market_based_side_by_side() -> None:
    f = footprint(FootprintInput(region="DE", training_kwh=100, cfe_fraction=0.5))
    assert f.operational_market_kgco2e == pytest.approx(f.operational_kgco2e / 2)
    g = footprint(FootprintInput(region="gcp:europe-west1", training_kwh=100))
    assert g.operational_market_kgco2e == pytest.approx(g.operational_kgco2e * (1 - 0.82))
    assert g.assumptions.pue == pytest.approx(1.10)
    c = footprint(FootprintInput(region="DE", training_kwh=100, market_intensity_g_per_kwh=0))
    assert c.operational_market_kgco2e == 0 and c.operational_kgco2e > 0


def test_bounds_order_the_embodied_figure() -> None:
    values = [
        footprint(SYSTEM.model_copy(update={"embodied_bound": b})).embodied_kgco2e
        for b in ("low", "central", "high")
    ]
    assert values[0] is not None and values[1] is not None and values[2] is not None
    assert values[0] < values[1] < values[2]


def test_gpu_hours_times_power() -> None:
    f = footprint(FootprintInput(intensity_g_per_kwh=100, gpu="A100", training_gpu_hours=1000))
    assert f.training is not None and f.training.energy_kwh == pytest.approx(400)
    g = footprint(FootprintInput(intensity_g_per_kwh=100, gpu="A100", gpus=4, training_hours=10))
    assert g.training is not None and g.training.gpu_hours == 40


def test_inference_hardware_time_from_energy_or_given() -> None:
    f = footprint(
        FootprintInput(intensity_g_per_kwh=100, gpu="L4", kwh_per_1k=0.072, queries_per_day=1000, years=1)
    )
    assert f.inference is not None
    assert f.inference.gpu_hours == pytest.approx(0.072 * 365 / 0.072)
    g = footprint(
        FootprintInput(
            intensity_g_per_kwh=100,
            gpu="L4",
            kwh_per_1k=0.072,
            queries_per_day=1000,
            years=1,
            inference_gpu_hours=1.0,
        )
    )
    assert g.inference is not None and g.inference.gpu_hours == 1.0


@pytest.mark.parametrize(
    ("flag", "update"),
    [
        ("--utilization", {"utilization": 0.0}),
        ("--utilization", {"utilization": 1.01}),
        ("--lifetime-years", {"lifetime_years": 0.0}),
        ("--training-kwh", {"training_kwh": -1.0}),
        ("--training-kwh", {"training_kwh": float("nan")}),
        ("--kwh-per-1k", {"kwh_per_1k": float("inf")}),
        ("--pue", {"pue": 0.9}),
        ("--gpus", {"gpus": 0}),
        ("--cfe", {"cfe_fraction": 1.5}),
    ],
)
def test_bad_input_names_the_flag(flag: str, update: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match=flag):
        footprint(SYSTEM.model_copy(update=update))


def test_missing_pieces() -> None:
    with pytest.raises(InvalidInput, match="--energy-kwh"):
        footprint(FootprintInput(region="FR"))
    with pytest.raises(InvalidInput, match="--years"):
        footprint(FootprintInput(region="FR", kwh_per_1k=1, queries_per_day=10))
    with pytest.raises(InvalidInput, match="--region"):
        footprint(FootprintInput(training_kwh=10))
    with pytest.raises(InvalidInput, match="--intensity"):
        footprint(FootprintInput(region="FR", intensity_g_per_kwh=10, training_kwh=10))
    with pytest.raises(InvalidInput, match="--power-w"):
        footprint(FootprintInput(region="FR", training_gpu_hours=10))
    with pytest.raises(NotFound):
        footprint(FootprintInput(region="FR", training_kwh=10, gpu="H1000"))


def test_from_measurement() -> None:
    m = Measurement(
        start_s=0.0,
        duration_s=3600.0,
        components=[
            ComponentEnergy(name="gpu:0", energy_j=0.7 * JOULES_PER_KWH, method="counter", error_bound_j=0)
        ],
    )
    f = footprint_from_measurement(m, region="SE", gpu="H100")
    assert f.training is not None
    assert f.training.energy_kwh == pytest.approx(0.7)
    assert f.training.gpu_hours == pytest.approx(1.0)
    assert kwh_per_1k(m, 2000) == pytest.approx(0.35)


@settings(max_examples=30, deadline=None)
@given(k=st.floats(min_value=0.01, max_value=100))
def test_footprint_linear_in_energy(k: float) -> None:
    base = footprint(FootprintInput(region="PL", gpu="A100", training_kwh=1000))
    scaled = footprint(FootprintInput(region="PL", gpu="A100", training_kwh=1000 * k))
    assert base.total_kgco2e is not None and scaled.total_kgco2e is not None
    assert scaled.total_kgco2e == pytest.approx(k * base.total_kgco2e, rel=1e-9)


# ---- what-if levers


def test_what_if_region() -> None:
    w = what_if(SYSTEM, region="PL")
    assert w.delta_kgco2e is not None and w.delta_kgco2e > 0
    assert w.footprint.assumptions.region == "POL"


def test_what_if_utilisation_and_lifetime_lower_embodied() -> None:
    base = footprint(SYSTEM)
    for changes in ({"utilization": 1.0}, {"lifetime_years": 8.0}):
        w = what_if(SYSTEM, base=base, **changes)
        assert w.footprint.embodied_kgco2e is not None and base.embodied_kgco2e is not None
        assert w.footprint.embodied_kgco2e < base.embodied_kgco2e
        assert w.footprint.operational_kgco2e == pytest.approx(base.operational_kgco2e)


def test_what_if_pue() -> None:
    w = what_if(SYSTEM, pue=1.1)
    assert w.footprint.assumptions.pue == 1.1 and w.delta_fraction is not None and w.delta_fraction < 0


def test_what_if_newer_hardware() -> None:
    inp = FootprintInput(region="FR", gpu="A100", training_kwh=1000)
    w = what_if(inp, gpu="H100", speedup=3.0)
    t = w.footprint.training
    assert t is not None
    assert t.energy_kwh == pytest.approx(1000 * (700 / 400) / 3)
    assert w.footprint.assumptions.gpu == "H100-SXM5-80GB"


def test_what_if_shift_in_time_picks_lowest_window() -> None:
    rows = ["timestamp,g_per_kwh"] + [
        f"2024-05-01T{h:02d}:00:00Z,{v}"
        for h, v in enumerate([500, 500, 400, 100, 100, 100, 450, 500, 500, 500, 500, 500])
    ]
    profile = parse_profile("\n".join(rows))
    inp = FootprintInput(
        intensity_g_per_kwh=450,
        training_kwh=30,
        gpus=1,
        training_hours=3,
        profile=profile,
        start=datetime(2024, 5, 1, 0, tzinfo=UTC),
    )
    base = footprint(inp)
    assert base.training is not None
    assert base.training.intensity_g_per_kwh == pytest.approx((500 + 500 + 400) / 3)
    w = what_if(inp, base=base, deadline=datetime(2024, 5, 1, 12, tzinfo=UTC))
    assert w.window == (datetime(2024, 5, 1, 3, tzinfo=UTC), datetime(2024, 5, 1, 6, tzinfo=UTC))
    assert w.footprint.training is not None and w.footprint.training.intensity_g_per_kwh == pytest.approx(100)
    assert w.delta_fraction is not None and w.delta_fraction < -0.7
    with pytest.raises(InvalidInput, match="--deadline"):
        what_if(SYSTEM, deadline=datetime(2024, 5, 1, 12, tzinfo=UTC))


# ---- CPU-only servers


CPU_SERVER = FootprintInput(
    region="FR", cpu="EPYC-7763", training_kwh=100, kwh_per_1k=0.01, queries_per_day=1e4, years=1
)


def test_cpu_only_server_gets_embodied_and_total() -> None:
    f = footprint(CPU_SERVER)
    a = f.assumptions
    assert a.device == "cpu" and a.cpu == "EPYC-7763" and a.cpus == 1 and a.gpu is None and a.gpus == 0
    assert a.host == "host-cpu-server" and a.host_embodied_kg == 745 and a.cpus_per_host == 1
    assert a.cpu_embodied_kg is not None and a.cpu_embodied_kg > 0
    assert a.embodied_per_cpu_kg == pytest.approx(a.cpu_embodied_kg + 745)
    assert a.power_w == 280 and "TDP" in a.power_basis
    assert f.embodied_kgco2e is not None and f.total_kgco2e is not None
    assert f.training is not None and f.training.device == "cpu" and f.training.gpu_hours is None
    assert f.training.cpu_hours == pytest.approx(100 / 0.28)
    expected = a.embodied_per_cpu_kg * (100 / 0.28) / (5 * 8760 * 0.85)
    assert f.training.embodied_kgco2e == pytest.approx(expected)


def test_cpu_server_hours_and_counts() -> None:
    f = footprint(
        FootprintInput(intensity_g_per_kwh=100, cpu="XEON-8480+", cpus=2, cpus_per_host=2, training_hours=10)
    )
    assert f.training is not None and f.training.cpu_hours == 20
    assert f.training.energy_kwh == pytest.approx(20 * 0.350)
    assert f.assumptions.embodied_per_cpu_kg == pytest.approx(f.assumptions.cpu_embodied_kg + 745 / 2)
    given = footprint(
        FootprintInput(intensity_g_per_kwh=100, cpu="EPYC-7763", cpu_hours=7, cpu_embodied_kg=30)
    )
    assert given.training is not None and given.training.cpu_hours == 7
    assert given.assumptions.cpu_embodied_kg == 30


def test_gpu_name_for_a_cpu_points_to_cpu() -> None:
    with pytest.raises(InvalidInput, match="--cpu EPYC-7763"):
        footprint(FootprintInput(region="FR", gpu="EPYC-7763", training_kwh=1))
    with pytest.raises(InvalidInput, match="--gpu H100-SXM5-80GB"):
        footprint(FootprintInput(region="FR", cpu="H100", training_kwh=1))


@pytest.mark.parametrize(
    ("update", "flag"),
    [
        ({"gpu": "A100"}, "--cpu"),
        ({"training_gpu_hours": 5.0, "training_kwh": None}, "--gpu-hours"),
        ({"gpus": 4}, "--gpus"),
        ({"gpu_embodied_kg": 100.0}, "--gpu-embodied-kg"),
        ({"cpus": 0}, "--cpus"),
    ],
)
def test_gpu_flags_with_cpu_are_refused(update: dict[str, object], flag: str) -> None:
    with pytest.raises(InvalidInput, match=flag):
        footprint(CPU_SERVER.model_copy(update=update))


def test_cpu_flags_without_cpu_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"--cpus.*give --cpu NAME"):
        footprint(FootprintInput(region="FR", gpu="A100", cpus=2, training_kwh=1))


def test_cpu_server_what_if_speedup() -> None:
    w = what_if(CPU_SERVER, speedup=2)
    base = footprint(CPU_SERVER)
    assert w.footprint.operational_kgco2e == pytest.approx(base.operational_kgco2e / 2)
    with pytest.raises(InvalidInput, match="CPU server"):
        what_if(CPU_SERVER, gpu="H100")
