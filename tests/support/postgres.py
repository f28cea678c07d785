"""A throwaway database on the test PostgreSQL server, for the fixtures that need one (per test or per
session)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager


def _admin(url: str) -> str:
    """A libpq URL psycopg can connect with (no SQLAlchemy driver suffix)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def new_database(pg_url: str, prefix: str = "wattsup_test") -> Iterator[str]:
    """A fresh, empty database on the server of ``pg_url``, dropped on exit; its SQLAlchemy URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
