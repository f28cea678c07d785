"""Sensor tests: every test starts with NVML's reference count at zero (the fakes are in tests/fakes)."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_nvml(fresh_nvml_state: None) -> None:
    """See :func:`tests.conftest.fresh_nvml_state`."""
