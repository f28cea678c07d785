"""Life-cycle carbon: grid intensity, PUE, the embodied hardware catalog and parametric IC model,
amortisation, and the footprint of an AI system (operational and embodied, training and inference).

Pure functions over packaged tables (``wattsup/data/carbon``); see docs/carbon.md for the formulas,
defaults and data sources.
"""

from __future__ import annotations

from wattsup.carbon._data import BOUNDS, Bound
from wattsup.carbon.amortisation import HOURS_PER_YEAR, amortised_embodied_kg, construction_kg
from wattsup.carbon.footprint import (
    Assumptions,
    Footprint,
    FootprintInput,
    PhaseFootprint,
    WhatIf,
    footprint,
    footprint_from_measurement,
    kwh_per_1k,
    parity_inferences,
    scenario,
    validate_input,
    what_if,
)
from wattsup.carbon.grid import GridIntensity, grid_intensity, list_regions, region_codes
from wattsup.carbon.hardware import (
    EmbodiedEstimate,
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
from wattsup.carbon.operational import (
    hourly_operational_kg,
    market_intensity,
    measurement_energy_kwh,
    operational_kg,
)
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

__all__ = [
    "BOUNDS",
    "HOURS_PER_YEAR",
    "Assumptions",
    "Bound",
    "DeviceEstimate",
    "Die",
    "EmbodiedEstimate",
    "FabParameters",
    "Footprint",
    "FootprintInput",
    "GridIntensity",
    "HardwareItem",
    "IntensityProfile",
    "PhaseFootprint",
    "PueValue",
    "ServerArchetype",
    "WhatIf",
    "Window",
    "amortised_embodied_kg",
    "best_window",
    "carbon_per_area_kg_per_cm2",
    "construction_kg",
    "cpu",
    "default_pue",
    "die_only_kg",
    "estimate_device",
    "footprint",
    "footprint_from_measurement",
    "gpu",
    "grid_intensity",
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
    "operational_kg",
    "parity_inferences",
    "parse_dies",
    "parse_profile",
    "per_gb_kg",
    "region_codes",
    "scenario",
    "server",
    "validate_input",
    "what_if",
]
