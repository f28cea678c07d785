"""Meter tests: every test starts with NVML's reference count at zero (the fakes are in tests/fakes)."""

from pathlib import Path

import pytest

from tests.fakes.powercap import PowercapTree


@pytest.fixture(autouse=True)
def _fresh_nvml(fresh_nvml_state: None) -> None:
    """See :func:`tests.conftest.fresh_nvml_state`."""


@pytest.fixture
def no_rapl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty powercap tree (as in a VM), as the default root."""
    root = tmp_path / "powercap"
    PowercapTree(root)
    monkeypatch.setenv("WATTSUP_POWERCAP_ROOT", str(root))
    return str(root)
