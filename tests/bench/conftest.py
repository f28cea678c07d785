"""Shared fixtures of the bench tests: offline, the default store in a temp dir, the study's logs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.processes import SHARED

STUDY = SHARED / "data" / "power-hungry-processing"


@pytest.fixture(autouse=True)
def _isolated(scratch_default_store: None, quiet_warnings: None) -> None:
    """The default store is the test's own, and the model hub is offline."""


@pytest.fixture
def study_data() -> Path:
    if not STUDY.exists():
        if os.environ.get("CI", "").lower() == "true":  # CI lays shared/ beside the clone: must run
            pytest.fail(f"the study's logs are not at {STUDY}")
        pytest.skip(f"the study's logs are not at {STUDY}")
    return STUDY
