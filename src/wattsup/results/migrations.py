"""Creating and upgrading the store's schema.

A store records every applied version in ``schema_version``. Opening a store with no schema creates the
current one; opening an older one applies the steps in :data:`MIGRATIONS` in order, in one transaction;
opening one written by a newer wattsup is refused (its tables may mean something this one can't read).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wattsup.errors import WattsupError
from wattsup.results.serving_table import create_serving_table
from wattsup.results.tables import SCHEMA_VERSION, metadata, schema_version

Migration = Callable[[Connection], None]


def _v2_reported(conn: Connection) -> None:
    """Version 2: the emissions and country an importer's source tool computed (``RunRecord.reported``);
    NULL for the runs stored before, whose records carry none."""
    for column, kind in (("reported_emissions_kg", "FLOAT"), ("reported_country", "VARCHAR(16)")):
        conn.execute(sa.text(f"ALTER TABLE runs ADD COLUMN {column} {kind}"))


MIGRATIONS: dict[int, tuple[str, Migration]] = {
    2: ("runs.reported_emissions_kg, runs.reported_country", _v2_reported),
    3: ("serving_runs (wattsup serve results)", create_serving_table),
}
"""``version -> (description, step)``: the step that upgrades a store at ``version - 1`` to ``version``.
Version 1 is the first schema, created whole; add a step here with every change to ``tables.py``."""

_PG_LOCK_KEY = 0x77617474_7375  # "wattsu": serialises schema changes between processes on PostgreSQL


class StoreError(WattsupError):
    """The results store cannot be used as asked. The message names the store and what to do."""


def current_version(conn: Connection) -> int | None:
    """The store's schema version, or ``None`` when it has no wattsup schema yet."""
    if not sa.inspect(conn).has_table(schema_version.name):
        return None
    found = conn.scalar(sa.select(sa.func.max(schema_version.c.version)))
    return int(found) if found is not None else None


def ensure_schema(conn: Connection, where: str) -> int | None:
    """Create or upgrade the schema inside ``conn``'s write transaction; returns the version found before
    (``None`` for a new store). ``where`` names the store in error messages."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    found = current_version(conn)
    if found is None:
        if sa.inspect(conn).has_table("runs"):
            raise StoreError(
                f"{where} has a 'runs' table but no wattsup schema_version table, so it is not a wattsup "
                "results store; give --db a new file or an empty database"
            )
        metadata.create_all(conn)
        _stamp(conn, SCHEMA_VERSION)
        return None
    check_not_newer(found, where)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        if version not in MIGRATIONS:
            raise StoreError(
                f"{where} is at schema version {found} and this wattsup has no step to version {version}"
            )
        _description, step = MIGRATIONS[version]
        step(conn)
        _stamp(conn, version)
    return found


def check_not_newer(found: int, where: str) -> None:
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"{where} was written by a newer wattsup (schema version {found}; this one knows up to "
            f"{SCHEMA_VERSION}); upgrade wattsup ('pip install -U wattsup') to read or write it"
        )


def _stamp(conn: Connection, version: int) -> None:
    from wattsup import __version__

    conn.execute(
        schema_version.insert().values(
            version=version, applied_at=datetime.now(UTC), wattsup_version=__version__
        )
    )
