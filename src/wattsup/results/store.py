"""The results store: every run, with its full record, in a SQL database.

A SQLite file by default (in the user's data directory), or any SQLAlchemy URL: PostgreSQL for a team.
Writes are one transaction per record (or per chunk in :meth:`Store.add_many`) and idempotent on
``run_id``, so concurrent writers lose nothing and duplicate nothing, and a killed suite leaves only
whole records behind. Resume asks :meth:`Store.has_completed`: a configuration counts as done once it
has an ``ok`` run; failed runs are kept (with their reason) and retried.

Open one :class:`Store` per process; after ``fork`` the child drops the parent's pooled connections.
Reaching the database is :mod:`wattsup.results.connect`; which runs a query means,
:mod:`wattsup.results.filters` (both re-exported here).
"""

from __future__ import annotations

import os
import random
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from wattsup.errors import InvalidInput, NotFound
from wattsup.records import Provenance, RunConfig, RunRecord
from wattsup.results.connect import (
    DEFAULT_SOURCE,
    ENV_VAR,
    RETRY_FOR_S,
    WRITE_OPTION,
    StoreMissing,
    StoreUnavailable,
    create_engine,
    default_db_path,
    display,
    first_line,
    location_of,
    resolve_url,
    retryable,
)
from wattsup.results.filters import RunFilter, clauses_of, glob_to_like, match
from wattsup.results.migrations import check_not_newer, current_version, ensure_schema
from wattsup.results.rows import RunSummary, phase_rows, run_row
from wattsup.results.statements import delete_run, insert_many, insert_runs
from wattsup.results.tables import (
    PHASE_EXPORT_COLUMNS,
    RUN_COLUMNS,
    SCHEMA_VERSION,
    phases,
    run_records,
    runs,
)

T = TypeVar("T")


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Store:
    """A results store. Open it with :meth:`Store.open`; use it as a context manager or :meth:`close` it."""

    def __init__(self, engine: Engine, *, location: str, source: str = "--db") -> None:
        self._engine = engine
        self.location = location
        """Where the store is, for people: a file path or the URL without its password."""
        self.source = source
        ref = weakref.ref(self)

        def _after_fork() -> None:
            store = ref()
            if store is not None:
                store._engine.dispose(close=False)

        os.register_at_fork(after_in_child=_after_fork)

    # -- opening -------------------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str | None = None, *, create: bool = True) -> Store:
        """Open (creating or upgrading the schema if needed) the store at ``url``: a SQLAlchemy URL or a
        file path; ``None`` means ``$WATTSUP_DB``, else the default SQLite file (:func:`default_db_path`).
        Raises :class:`~wattsup.errors.InvalidInput` for a malformed URL and :class:`StoreUnavailable`
        when the database cannot be reached, each naming ``--db`` and what to do.

        ``create=False`` is for commands that only read: a store that does not exist (no file, or a
        database without wattsup's schema) is :class:`StoreMissing`, and nothing is created."""
        parsed, source = resolve_url(url)
        engine = create_engine(parsed, source, create=create)
        store = cls(engine, location=display(parsed), source=source)
        try:
            store._prepare(create=create)
        except DBAPIError as err:
            engine.dispose()
            raise store._unavailable(err) from None
        except BaseException:
            engine.dispose()
            raise
        return store

    def _prepare(self, *, create: bool = True) -> None:
        found = self._run(current_version, write=False)
        if found == SCHEMA_VERSION:
            return
        if found is None and not create:
            raise StoreMissing(
                f"{self._where}: holds no wattsup store (nothing has been stored there yet); give --db the "
                "path or URL of an existing store, or store runs first (wattsup bench, wattsup import)"
            )
        if found is not None:
            check_not_newer(found, self._where)
        self._run(lambda conn: ensure_schema(conn, self._where), write=True)

    @property
    def _where(self) -> str:
        return (
            f"the store {self.location}"
            if self.source == DEFAULT_SOURCE
            else f"{self.source} {self.location}"
        )

    def _unavailable(self, err: DBAPIError) -> StoreUnavailable:
        reason = first_line(err.orig if err.orig is not None else err)
        if self.dialect == "sqlite":
            advice = (
                "check that the path is a wattsup SQLite store (or a new file) in a writable directory, "
                "or give --db another path"
            )
        else:
            advice = (
                "check that the server is running and that the host, port, user, password and database "
                "in the URL are right (a local test server: scripts/postgres.sh start); or leave --db and "
                f"{ENV_VAR} unset to use the local SQLite file {default_db_path()}"
            )
        return StoreUnavailable(f"{self._where}: cannot open the store ({reason}); {advice}")

    @property
    def dialect(self) -> str:
        """``"sqlite"``, ``"postgresql"``, ..."""
        return self._engine.dialect.name

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for SQL the store has no method for (e.g. aggregate summaries)."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    def schema_version(self) -> int | None:
        return self._run(current_version, write=False)

    # -- the transaction loop ------------------------------------------------------------------------

    def _run(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        """Run ``fn`` in one transaction, committed if ``write``; retried on a locked SQLite file, a
        deadlock or a serialisation failure (the work is idempotent, so a retry is safe)."""
        deadline = time.monotonic() + RETRY_FOR_S
        attempt = 0
        while True:
            try:
                with self._engine.connect() as conn:
                    if write:
                        conn.execution_options(**{WRITE_OPTION: True})
                        with conn.begin():
                            return fn(conn)
                    return fn(conn)
            except DBAPIError as err:
                if not retryable(err) or time.monotonic() >= deadline:
                    raise
            attempt += 1
            time.sleep(min(1.0, 0.01 * 2**attempt) * (0.5 + random.random()))

    # -- writing -------------------------------------------------------------------------------------

    def add(self, record: RunRecord, *, replace: bool = False) -> bool:
        """Store one record in one transaction. Idempotent on ``run_id``: a record already stored is left
        as it is (returns ``False``) unless ``replace``, which swaps it for this one. Returns whether
        this call wrote it."""
        row = run_row(record)
        blob = record.model_dump_json()
        rows = phase_rows(record)

        def tx(conn: Connection) -> bool:
            if replace:
                delete_run(conn, record.run_id)
            if not insert_runs(conn, [row]):
                return False
            insert_many(conn, run_records, [{"run_id": record.run_id, "record_json": blob}])
            insert_many(conn, phases, rows)
            return True

        return self._run(tx, write=True)

    def add_many(self, records: Iterable[RunRecord], *, chunk_size: int = 1000) -> int:
        """Store many records fast: one multi-row transaction per ``chunk_size`` records. Idempotent on
        ``run_id`` like :meth:`add`. Returns how many were new."""
        added = 0
        stored_at = datetime.now(UTC)
        for chunk in _chunks(records, chunk_size):
            unique = {r.run_id: r for r in reversed(chunk)}  # the first of duplicates within a chunk wins
            ordered = [unique[k] for k in sorted(unique)]  # one lock order for every writer: no deadlocks
            # Everything is built before the transaction: the write lock is held only for the inserts.
            run_rows = [run_row(r, stored_at=stored_at) for r in ordered]
            blobs = {r.run_id: r.model_dump_json() for r in ordered}
            by_run = {r.run_id: phase_rows(r) for r in ordered}

            def tx(
                conn: Connection,
                run_rows: list[dict[str, Any]] = run_rows,
                blobs: dict[str, str] = blobs,
                by_run: dict[str, list[dict[str, Any]]] = by_run,
            ) -> int:
                new = insert_runs(conn, run_rows)
                insert_many(
                    conn, run_records, [{"run_id": k, "record_json": v} for k, v in blobs.items() if k in new]
                )
                insert_many(
                    conn, phases, [p for run_id, rows in by_run.items() if run_id in new for p in rows]
                )
                return len(new)

            added += self._run(tx, write=True)
        return added

    def keep(self, record: RunRecord) -> None:
        """Store a run as a runner returned it: an ok record whole, a failed one with its reason (a
        resumed suite retries it). Idempotent on ``run_id``."""
        if record.status == "ok":
            self.add(record)
            return
        self.record_failure(
            record.config,
            record.error or "failed",
            provenance=record.provenance,
            started_at=record.started_at,
            run_id=record.run_id,
        )

    def record_failure(
        self,
        config: RunConfig,
        reason: str,
        *,
        provenance: Provenance | None = None,
        started_at: datetime | None = None,
        run_id: str | None = None,
    ) -> RunRecord:
        """Store a failed run of ``config`` with its reason (an exception message, "out of memory", ...),
        and return it. Failed runs do not count as completed: a resumed suite retries them."""
        now = datetime.now(UTC)
        fields: dict[str, Any] = {
            "config": config,
            "status": "failed",
            "error": reason,
            "started_at": started_at or now,
            "finished_at": now,
            "provenance": provenance or Provenance(),
        }
        if run_id is not None:
            fields["run_id"] = run_id
        record = RunRecord(**fields)
        self.add(record)
        return record

    def delete(self, run_id: str) -> bool:
        """Delete one run and its phases; returns whether it was there."""

        return self._run(lambda conn: delete_run(conn, run_id), write=True)

    # -- reading -------------------------------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord:
        """The full record of a run; :class:`~wattsup.errors.NotFound` (with close ids) if there is none."""
        blob = self._run(
            lambda conn: conn.scalar(
                sa.select(run_records.c.record_json).where(run_records.c.run_id == run_id)
            ),
            write=False,
        )
        if blob is None:
            raise self._not_found(run_id)
        return RunRecord.model_validate_json(blob)

    def get_many(self, run_ids: Iterable[str]) -> dict[str, RunRecord]:
        """The full records of those of ``run_ids`` that are stored, by id (absent ids are left out)."""
        out: dict[str, RunRecord] = {}
        for chunk in _chunks(dict.fromkeys(run_ids), 500):
            stmt = sa.select(run_records.c.run_id, run_records.c.record_json).where(
                run_records.c.run_id.in_(chunk)
            )

            def read(conn: Connection, stmt: sa.Select[Any] = stmt) -> list[Any]:
                return list(conn.execute(stmt).all())

            for run_id, blob in self._run(read, write=False):
                out[run_id] = RunRecord.model_validate_json(blob)
        return out

    def resolve(self, run_id: str) -> str:
        """The full id of a run given its id or a unique prefix of it (as ``git`` does with commits)."""
        key = run_id.strip()
        if not key:
            raise InvalidInput("RUN_ID", "is empty; list runs with 'wattsup runs'")

        def look(conn: Connection) -> list[str]:
            stmt = sa.select(runs.c.run_id).where(runs.c.run_id >= key).order_by(runs.c.run_id).limit(6)
            return list(conn.scalars(stmt))

        following = self._run(look, write=False)
        matches = [r for r in following if r.startswith(key)]
        if (matches and matches[0] == key) or len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise InvalidInput("RUN_ID", f"{key!r} is the start of several runs ({shown}); give more of it")
        raise self._not_found(key, following)

    def _not_found(self, key: str, following: list[str] | None = None) -> NotFound:
        def near(conn: Connection) -> list[str]:
            before = (
                sa.select(runs.c.run_id).where(runs.c.run_id < key).order_by(runs.c.run_id.desc()).limit(5)
            )
            after = sa.select(runs.c.run_id).where(runs.c.run_id >= key).order_by(runs.c.run_id).limit(5)
            return list(conn.scalars(before)) + (
                following if following is not None else list(conn.scalars(after))
            )

        db = "" if self.source == DEFAULT_SOURCE else f" --db {self.location}"
        # Neighbours in id order, cut to the length typed: a mistyped prefix is offered its likely fix.
        choices = [c[: len(key)] for c in self._run(near, write=False)]
        return NotFound("run", key, choices, hint=f"(list runs with 'wattsup runs{db}')")

    def list_runs(
        self, filters: RunFilter | None = None, *, limit: int | None = None, offset: int = 0
    ) -> list[RunSummary]:
        """Runs matching ``filters``, newest first, as summaries (the headline columns, no phases)."""
        stmt = (
            sa.select(*(runs.c[c] for c in RUN_COLUMNS))
            .where(*clauses_of(filters))
            .order_by(runs.c.started_at.desc(), runs.c.run_id.desc())
            .offset(offset)
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        result = self._run(lambda conn: conn.execute(stmt).mappings().all(), write=False)
        return [RunSummary.from_row(r) for r in result]

    def count(self, filters: RunFilter | None = None) -> int:
        stmt = sa.select(sa.func.count()).select_from(runs).where(*clauses_of(filters))
        return int(self._run(lambda conn: conn.scalar(stmt), write=False) or 0)

    def completed_hashes(self, filters: RunFilter | None = None) -> set[str]:
        """The config hashes that have at least one ``ok`` run: what a resumed suite skips."""
        stmt = sa.select(runs.c.config_hash).where(runs.c.status == "ok", *clauses_of(filters)).distinct()
        return set(self._run(lambda conn: list(conn.scalars(stmt)), write=False))

    def has_completed(self, config: RunConfig | str) -> bool:
        """Whether ``config`` (or a config hash) already has an ``ok`` run. Failed runs don't count."""
        key = config if isinstance(config, str) else config.config_hash()
        stmt = sa.select(runs.c.run_id).where(runs.c.config_hash == key, runs.c.status == "ok").limit(1)
        return self._run(lambda conn: conn.scalar(stmt), write=False) is not None

    def iter_records(self, filters: RunFilter | None = None, *, chunk_size: int = 500) -> Iterator[RunRecord]:
        """Every matching record, in ``run_id`` order, read ``chunk_size`` at a time (each chunk its own
        short read, so an export never holds a transaction open)."""
        stmt = sa.select(runs.c.run_id, run_records.c.record_json).select_from(_WITH_RECORDS)
        for chunk in self._keyset(stmt.where(*clauses_of(filters)), runs.c.run_id, chunk_size):
            for row in chunk:
                yield RunRecord.model_validate_json(row["record_json"])

    def iter_run_rows(
        self, filters: RunFilter | None = None, *, chunk_size: int = 5000, full: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        """Chunks of flat run rows (:data:`~wattsup.results.tables.RUN_COLUMNS`, plus ``record_json``
        if ``full``), in ``run_id`` order."""
        stmt = sa.select(*(runs.c[c] for c in RUN_COLUMNS))
        if full:
            stmt = stmt.add_columns(run_records.c.record_json).select_from(_WITH_RECORDS)
        yield from self._keyset(stmt.where(*clauses_of(filters)), runs.c.run_id, chunk_size)

    def iter_phase_rows(
        self, filters: RunFilter | None = None, *, chunk_size: int = 20000
    ) -> Iterator[list[dict[str, Any]]]:
        """Chunks of phase rows (:data:`~wattsup.results.tables.PHASE_EXPORT_COLUMNS`) of matching runs."""
        from_runs = {"config_hash", "task", "model", "hardware"}
        cols = [phases.c.id, *((runs.c if c in from_runs else phases.c)[c] for c in PHASE_EXPORT_COLUMNS)]
        stmt = sa.select(*cols).select_from(phases.join(runs, phases.c.run_id == runs.c.run_id))
        stmt = stmt.where(*clauses_of(filters))
        for chunk in self._keyset(stmt, phases.c.id, chunk_size):
            for row in chunk:
                del row["id"]
            yield chunk

    def phases_of(self, run_id: str) -> list[dict[str, Any]]:
        """The stored phase rows of one run, in order (load window first, then each repetition)."""
        stmt = (
            sa.select(*(c for c in phases.c if c.name != "id"))
            .where(phases.c.run_id == run_id)
            .order_by(phases.c.id)
        )
        return [dict(r) for r in self._run(lambda conn: conn.execute(stmt).mappings().all(), write=False)]

    def _keyset(
        self, stmt: sa.Select[Any], key: sa.Column[Any], chunk_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        last: Any = None
        while True:
            page = stmt if last is None else stmt.where(key > last)
            page = page.order_by(key).limit(chunk_size)

            def read(conn: Connection, page: sa.Select[Any] = page) -> list[dict[str, Any]]:
                return [dict(r) for r in conn.execute(page).mappings()]

            rows = self._run(read, write=False)
            if not rows:
                return
            last = rows[-1][key.name]
            yield rows
            if len(rows) < chunk_size:
                return


_WITH_RECORDS = runs.join(run_records, run_records.c.run_id == runs.c.run_id)
__all__ = [
    "ENV_VAR",
    "RunFilter",
    "Store",
    "StoreMissing",
    "StoreUnavailable",
    "default_db_path",
    "glob_to_like",
    "location_of",
    "match",
    "resolve_url",
]
