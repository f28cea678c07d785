"""Shared fixtures of the sweep tests: offline, a store in a temp dir, fake worker entries, sweep files."""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
HERE = Path(__file__).parent
FAKE_ENTRY = "sweep_fakes:scripted"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("WATTSUP_DB", str(tmp_path / "default-runs.db"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


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
    """The environment of the fake entries: ``fake_env({1: "fail"}, sleep_s=0.5)``."""

    def make(script: dict[int, str] | None = None, sleep_s: float = 0.0) -> dict[str, str]:
        return {
            "PYTHONPATH": str(HERE),
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


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on ``$WATTSUP_TEST_PG_URL`` (scripts/postgres.sh); its URL."""
    url = os.environ.get("WATTSUP_TEST_PG_URL", "").strip()
    if not url:
        why = (
            "WATTSUP_TEST_PG_URL is not set; run 'eval \"$(scripts/postgres.sh env)\"' (scripts/test.sh does)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL tests cannot run under CI=true: {why}")
        pytest.skip(why)
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"wattsup_sweep_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
