"""Meter tests share the sensor fakes of tests/sensors (fake NVML, fake powercap trees, fake clock)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sensors"))

from sensor_fixtures import _fresh_nvml_state, fake_clock, fake_nvml, no_nvml

__all__ = ["_fresh_nvml_state", "fake_clock", "fake_nvml", "no_nvml"]
