"""Store fixtures: every store test runs on a SQLite file and on a real PostgreSQL server.

The server comes from ``WATTSUP_TEST_PG_URL`` (``scripts/test.sh`` starts one with scripts/postgres.sh);
each test gets a database of its own, dropped afterwards. Without the URL the PostgreSQL cases skip,
except under ``CI=true``, where they fail: CI must test what teams run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from wattsup.results import Store

PG_ENV = "WATTSUP_TEST_PG_URL"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL server's URL (a database we may create databases from)."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        why = f"{PG_ENV} is not set; run 'eval \"$(scripts/postgres.sh env)\"' (scripts/test.sh does)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL tests cannot run under CI=true: {why}")
        pytest.skip(why)
    return url


def _admin(url: str) -> str:
    """A libpq URL psycopg can connect with (no SQLAlchemy driver suffix)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server; its SQLAlchemy URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"wattsup_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with Store.open(store_url) as s:
        yield s


@pytest.fixture(autouse=True)
def _no_user_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never touch the user's real store: no WATTSUP_DB, and the data directory is a temp dir."""
    monkeypatch.delenv("WATTSUP_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
