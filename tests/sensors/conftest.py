"""Sensor tests: a fake NVML (autospec'd on the real nvidia-ml-py) and fake powercap trees."""

from sensor_fixtures import _fresh_nvml_state, fake_clock, fake_nvml, no_nvml

__all__ = ["_fresh_nvml_state", "fake_clock", "fake_nvml", "no_nvml"]
