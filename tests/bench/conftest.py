"""Shared fixtures of the bench tests: offline, a store in a temp dir, tiny configurations."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
HERE = Path(__file__).parent
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "power-hungry-processing"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("WATTSUP_DB", str(tmp_path / "runs.db"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture
def study_data() -> Path:
    if not SHARED.exists():
        if os.environ.get("CI", "").lower() == "true":  # CI lays shared/ beside the clone: must run
            pytest.fail(f"the study's logs are not at {SHARED}")
        pytest.skip(f"the study's logs are not at {SHARED}")
    return SHARED
