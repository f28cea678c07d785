"""The SQL of the store's writes: inserting runs once each (whatever a concurrent writer does), bulk
inserts of their records and phases, and deleting a run whole."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from wattsup.results.tables import phases, run_records, runs


def insert_runs(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the rows whose ``run_id`` is new; returns the ids inserted. Safe against a concurrent writer
    inserting the same ids (``ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL)."""
    if not rows:
        return set()
    name = conn.dialect.name
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        stmt: Any = sqlite.insert(runs).on_conflict_do_nothing(index_elements=["run_id"])
        return set(conn.scalars(stmt.returning(runs.c.run_id), rows))
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt = postgresql.insert(runs).on_conflict_do_nothing(index_elements=["run_id"])
        return set(conn.scalars(stmt.returning(runs.c.run_id), rows))
    ids = [r["run_id"] for r in rows]
    existing = set(conn.scalars(sa.select(runs.c.run_id).where(runs.c.run_id.in_(ids))))
    new = [r for r in rows if r["run_id"] not in existing]
    if new:
        conn.execute(runs.insert(), new)
    return {r["run_id"] for r in new}


PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_many(conn: Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows. The bulk path: a plain DBAPI ``executemany`` on SQLite and PostgreSQL, whose
    paramstyles are known (SQLAlchemy's per-row parameter processing costs more than the database's
    work there); SQLAlchemy's own insert elsewhere."""
    if not rows:
        return
    mark = PLACEHOLDER.get(conn.dialect.paramstyle)
    if mark is None or conn.dialect.name not in ("sqlite", "postgresql"):
        conn.execute(table.insert(), rows)
        return
    names = list(rows[0])
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
    conn.exec_driver_sql(sql, [tuple(r[c] for c in names) for r in rows])


def delete_run(conn: Connection, run_id: str) -> bool:
    """Delete a run, its record and its phases (explicitly: not every backend enforces ON DELETE)."""
    conn.execute(phases.delete().where(phases.c.run_id == run_id))
    conn.execute(run_records.delete().where(run_records.c.run_id == run_id))
    return conn.execute(runs.delete().where(runs.c.run_id == run_id)).rowcount > 0
