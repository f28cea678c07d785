"""Reaching a results store: which database a ``--db`` value (or ``$WATTSUP_DB``, or the default file)
names, the SQLAlchemy engine for it (SQLite set up for concurrent writers), and which database errors a
write retries."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from wattsup.errors import InvalidInput
from wattsup.results.migrations import StoreError

ENV_VAR = "WATTSUP_DB"
"""The environment variable that names the store when ``--db`` is not given."""

SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite writer waits for another's lock before the retry loop takes over."""

RETRY_FOR_S = 120.0
"""How long a write keeps retrying a locked SQLite file, a deadlock or a serialisation failure."""

DEFAULT_SOURCE = "default store"
WRITE_OPTION = "wattsup_write"


class StoreUnavailable(StoreError):
    """The store cannot be opened: no server there, no driver, a file that is not a database, ..."""


class StoreMissing(StoreUnavailable):
    """A reading command was pointed at a store that does not exist; reading never creates one."""


def default_db_path() -> Path:
    """The default store: ``runs.db`` in the user's data directory (``~/.local/share/wattsup`` on Linux)."""
    import platformdirs

    return platformdirs.user_data_path("wattsup") / "runs.db"


def resolve_url(url: str | None) -> tuple[URL, str]:
    """The SQLAlchemy URL of a store and the name of the setting it came from (``--db`` or ``WATTSUP_DB``).

    ``None`` or ``""`` means ``$WATTSUP_DB``, else the default SQLite file. A value without ``://`` is a
    file path; ``postgresql://`` and ``postgres://`` use the psycopg (3) driver.
    """
    source = "--db"
    if url is None or not url.strip():
        env = os.environ.get(ENV_VAR, "").strip()
        if not env:
            return URL.create("sqlite", database=str(default_db_path())), DEFAULT_SOURCE
        url, source = env, ENV_VAR
    url = url.strip()
    if "://" not in url:
        path = Path(os.path.expandvars(url)).expanduser()
        return URL.create("sqlite", database=str(path)), source
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        shown = re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)  # never echo a password
        raise InvalidInput(source, f"{shown!r} is not a database URL; {_URL_HELP}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed, source


_URL_HELP = (
    "give a file path (runs.db), sqlite:///PATH, or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
)


def display(url: URL) -> str:
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return url.database
    return url.render_as_string(hide_password=True)


def location_of(url: str | None) -> str:
    """Where :meth:`Store.open` would look for ``url``, for people (a file path, or the URL without its
    password)."""
    return display(resolve_url(url)[0])


def _is_memory(url: URL) -> bool:
    db = url.database or ""
    return db in ("", ":memory:") or "mode=memory" in db or url.query.get("mode") == "memory"


def create_engine(url: URL, source: str, *, create: bool = True) -> Engine:
    backend = url.get_backend_name()
    kwargs: dict[str, Any] = {}
    memory = False
    if backend == "sqlite":
        memory = _is_memory(url)
        if memory:
            kwargs.update(poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False})
        else:
            path = Path(url.database or "")
            if not create and not str(path).startswith("file:") and not path.is_file():
                where = "the store" if source == DEFAULT_SOURCE else source
                raise StoreMissing(
                    f"{where} {path}: no store there (nothing has been stored yet); give --db the path of "
                    "an existing store, or store runs first (wattsup bench, wattsup import)"
                )
            if not str(path).startswith("file:"):
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as err:
                    raise StoreUnavailable(
                        f"{source} {path}: cannot create its directory ({err.strerror}); give --db a path "
                        "in a writable directory"
                    ) from None
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    elif backend == "postgresql":
        kwargs["pool_pre_ping"] = True
        if url.get_driver_name() in ("psycopg", "psycopg2") and "connect_timeout" not in url.query:
            kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = sa.create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise InvalidInput(source, f"unknown kind of database {url.drivername!r}; {_URL_HELP}") from None
    except ImportError as err:
        extra = " (pip install 'wattsup[postgres]')" if backend == "postgresql" else ""
        raise StoreUnavailable(
            f"{source} {display(url)}: the database driver is not installed ({err}); install it{extra}"
        ) from None
    if backend == "sqlite" and url.get_driver_name() == "pysqlite":
        # WAL is a property of the file, set when it is created; a reader leaves the file as it is
        _sqlite_setup(engine, wal=not memory and create)
    return engine


def _sqlite_setup(engine: Engine, *, wal: bool) -> None:
    """WAL (readers never block the writer), a busy timeout, foreign keys, and transactions that start
    as the SQL says: ``BEGIN IMMEDIATE`` for writes, so writers queue on the lock instead of failing."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cur.execute("PRAGMA foreign_keys = ON")
            if wal:
                cur.execute("PRAGMA journal_mode = WAL")
                cur.execute("PRAGMA synchronous = NORMAL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "BEGIN")


def retryable(err: DBAPIError) -> bool:
    if err.connection_invalidated:
        return True
    orig = err.orig
    if getattr(orig, "sqlstate", None) in ("40001", "40P01"):  # serialization failure, deadlock (PostgreSQL)
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
