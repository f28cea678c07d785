"""The store's ``serving_runs`` table: one row per ``wattsup serve`` run, its whole result as JSON.

A serving result is not a :class:`~wattsup.records.RunRecord` (it has load levels, not repetitions of
one configuration), so it has a table of its own, added by schema version 3. The JSON is the serving
package's ``ServingResult``; this module stores and returns it as text, and
:mod:`wattsup.results.serving_store` turns that text into a ``ServingResult`` and back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Column, Index, Integer, String, Table, Text
from sqlalchemy.engine import Connection

from wattsup.errors import NotFound
from wattsup.results.tables import UTCDateTime, metadata

__all__ = ["ServingRow", "add_serving", "create_serving_table", "get_serving", "list_serving", "serving_runs"]

serving_runs = Table(
    "serving_runs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("engine", String(32), nullable=False),
    Column("model", String(512), nullable=False),
    Column("profile", String(64), nullable=False),
    Column("levels", Integer, nullable=False),
    Column("result_json", Text, nullable=False, comment="the whole ServingResult, as model_dump_json()"),
    Index("ix_serving_runs_created_at", "created_at"),
)


def create_serving_table(conn: Connection) -> None:
    """Schema version 3: the ``serving_runs`` table."""
    serving_runs.create(conn, checkfirst=True)


@dataclass(frozen=True)
class ServingRow:
    id: str
    created_at: datetime
    engine: str
    model: str
    profile: str
    levels: int
    result_json: str


def add_serving(store: object, row: ServingRow) -> None:
    """Store one serving result (a ``wattsup.results.store.Store``); storing the same id again replaces it."""
    from wattsup.results.store import Store

    assert isinstance(store, Store)

    def tx(conn: Connection) -> None:
        conn.execute(serving_runs.delete().where(serving_runs.c.id == row.id))
        conn.execute(serving_runs.insert().values(**asdict(row)))

    store._run(tx, write=True)


def list_serving(store: object, limit: int | None = None) -> list[ServingRow]:
    """Stored serving results, newest first."""
    from wattsup.results.store import Store

    assert isinstance(store, Store)
    q = sa.select(serving_runs).order_by(serving_runs.c.created_at.desc())
    if limit is not None:
        q = q.limit(limit)
    return store._run(lambda conn: [ServingRow(**r._mapping) for r in conn.execute(q)], write=False)


def get_serving(store: object, id: str) -> ServingRow:
    """One stored serving result by its id or a unique prefix of it."""
    from wattsup.results.store import Store

    assert isinstance(store, Store)
    q = sa.select(serving_runs).where(
        serving_runs.c.id.like(id.replace("%", "").replace("_", "\\_") + "%", escape="\\")
    )
    rows = store._run(lambda conn: [ServingRow(**r._mapping) for r in conn.execute(q.limit(2))], write=False)
    if len(rows) != 1:
        known = [r.id for r in list_serving(store, limit=20)]
        hint = (
            "The prefix matches several; give more of the id."
            if rows
            else "Stored ids are listed by wattsup.results.serving_store.stored_results()."
        )
        raise NotFound("serving run", id, known, hint=hint)
    return rows[0]
