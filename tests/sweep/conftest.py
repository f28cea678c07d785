"""Shared fixtures of the sweep tests: offline, a store in a temp dir, fake worker entries, sweep files.
PostgreSQL databases (``pg_database``) come from tests/conftest.py."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.processes import python_path

os.environ["RAY_USAGE_STATS_ENABLED"] = "0"


@pytest.fixture(autouse=True)
def _isolated(scratch_default_store: None, quiet_warnings: None) -> None:
    """The default store is the test's own, and the model hub is offline."""


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "runs.db")


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    d = tmp_path / "markers"
    d.mkdir()
    return d


@pytest.fixture
def fake_env(markers: Path) -> Callable[..., dict[str, str]]:
    """The environment of the fake entries (tests/fakes/sweep_entries.py):
    ``fake_env({1: "fail"}, sleep_s=0.5)``."""

    def make(script: dict[int, str] | None = None, sleep_s: float = 0.0) -> dict[str, str]:
        return {
            "PYTHONPATH": python_path(),
            "WATTSUP_TEST_MARKERS": str(markers),
            "WATTSUP_TEST_SCRIPT": json.dumps({str(k): v for k, v in (script or {}).items()}),
            "WATTSUP_TEST_SLEEP_S": str(sleep_s),
        }

    return make


@pytest.fixture
def sweep_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "sweep.yaml") -> Path:
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p

    return write
