"""Life-cycle carbon: grid intensity, PUE, the embodied hardware catalog and parametric IC model,
amortisation, water (on-site WUE, off-site grid water intensity), the life cycle of a served request
(two boundaries: active accelerator and comprehensive), and the footprint of an AI system
(operational with idle energy, embodied, construction; training and inference; GPU or CPU servers).

Pure functions over packaged tables (``wattsup/data/carbon``); see docs/carbon.md for the formulas,
defaults and data sources.
"""

from __future__ import annotations

from wattsup.carbon._data import BOUNDS, Bound
from wattsup.carbon.amortisation import HOURS_PER_YEAR, amortised_embodied_kg, construction_kg
from wattsup.carbon.footprint import footprint, footprint_from_measurement, kwh_per_1k, parity_inferences
from wattsup.carbon.grid import GridIntensity, country_of, grid_intensity, list_regions, region_codes
from wattsup.carbon.hardware import (
    EmbodiedEstimate,
    EmbodiedUnknown,
    HardwareItem,
    ServerArchetype,
    cpu,
    gpu,
    hardware,
    host,
    list_hardware,
    list_servers,
    lookup,
    server,
)
from wattsup.carbon.inputs import FootprintInput, validate_input
from wattsup.carbon.operational import (
    hourly_operational_kg,
    market_intensity,
    measurement_energy_kwh,
    operational_kg,
)
from wattsup.carbon.outputs import Assumptions, Footprint, PhaseFootprint, WhatIf
from wattsup.carbon.parametric import (
    DeviceEstimate,
    Die,
    FabParameters,
    carbon_per_area_kg_per_cm2,
    die_only_kg,
    estimate_device,
    ic_embodied_kg,
    memory_embodied_kg,
    parse_dies,
    per_gb_kg,
)
from wattsup.carbon.profile import IntensityProfile, Window, best_window, parse_profile
from wattsup.carbon.pue import PueValue, default_pue
from wattsup.carbon.request import (
    BoundaryResult,
    EnergyPart,
    Figures,
    RequestInput,
    RequestLifeCycle,
    request_input_from_measurement,
    request_life_cycle,
)
from wattsup.carbon.water import (
    WaterFactor,
    WaterSite,
    WaterUse,
    grid_water_intensity,
    onsite_wue,
    water_factors,
    water_l,
    water_site,
    water_use,
)
from wattsup.carbon.whatif import scenario, what_if

__all__ = [
    "BOUNDS",
    "HOURS_PER_YEAR",
    "Assumptions",
    "Bound",
    "BoundaryResult",
    "DeviceEstimate",
    "Die",
    "EmbodiedEstimate",
    "EmbodiedUnknown",
    "EnergyPart",
    "FabParameters",
    "Figures",
    "Footprint",
    "FootprintInput",
    "GridIntensity",
    "HardwareItem",
    "IntensityProfile",
    "PhaseFootprint",
    "PueValue",
    "RequestInput",
    "RequestLifeCycle",
    "ServerArchetype",
    "WaterFactor",
    "WaterSite",
    "WaterUse",
    "WhatIf",
    "Window",
    "amortised_embodied_kg",
    "best_window",
    "carbon_per_area_kg_per_cm2",
    "construction_kg",
    "country_of",
    "cpu",
    "default_pue",
    "die_only_kg",
    "estimate_device",
    "footprint",
    "footprint_from_measurement",
    "gpu",
    "grid_intensity",
    "grid_water_intensity",
    "hardware",
    "host",
    "hourly_operational_kg",
    "ic_embodied_kg",
    "kwh_per_1k",
    "list_hardware",
    "list_regions",
    "list_servers",
    "lookup",
    "market_intensity",
    "measurement_energy_kwh",
    "memory_embodied_kg",
    "onsite_wue",
    "operational_kg",
    "parity_inferences",
    "parse_dies",
    "parse_profile",
    "per_gb_kg",
    "region_codes",
    "request_input_from_measurement",
    "request_life_cycle",
    "scenario",
    "server",
    "validate_input",
    "water_factors",
    "water_l",
    "water_site",
    "water_use",
    "what_if",
]
