"""Dashboard fixtures: the study's runs in a real SQLite file and on the real PostgreSQL server
(``WATTSUP_TEST_PG_URL``, as tests/results does), the app over each, and FastAPI's TestClient.

The stores are built once per session: the dashboard only reads, and a test that checks that writes
are refused uses a store of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_factories import study_records
from web_serving import fill, serving_results

from wattsup.results import Store
from wattsup.web import create_app

PG_ENV = "WATTSUP_TEST_PG_URL"
HOSTS = ("testserver", "127.0.0.1", "localhost")


def _under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def pg_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        why = f"{PG_ENV} is not set; run 'eval \"$(scripts/postgres.sh env)\"' (scripts/test.sh does)"
        if _under_ci():
            pytest.fail(f"PostgreSQL tests cannot run under CI=true: {why}")
        pytest.skip(why)
    return url


def _admin(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_database(pg_url: str) -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"wattsup_web_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin(pg_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _url(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{folder / 'runs.db'}"
    else:
        yield from _pg_database(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def study_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The study's runs in a store (a SQLite file, or a database on the PostgreSQL server), with serving
    runs stored through the serving store's API."""
    from wattsup.results.serving_store import save_result

    for url in _url(request, tmp_path_factory.mktemp("study")):
        with Store.open(url) as store:
            store.add_many(study_records())
            for r in serving_results():
                save_result(r, url)
            yield store


@pytest.fixture(scope="session")
def client(study_store: Store) -> Iterator[TestClient]:
    """The dashboard over the study's store (read-only from here on)."""
    with TestClient(create_app(study_store, allowed_hosts=HOSTS)) as c:
        yield c


@pytest.fixture
def empty_client(tmp_path: Path) -> Iterator[TestClient]:
    with Store.open(str(tmp_path / "empty.db")) as store:
        yield TestClient(create_app(store, allowed_hosts=HOSTS))


@pytest.fixture(autouse=True)
def _no_user_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never touch the user's real store: no WATTSUP_DB, and the data directory is a temp dir."""
    monkeypatch.delenv("WATTSUP_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


# ---------------------------------------------------------------- the real command, on loopback


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


_MAIN = "import sys; from wattsup.cli import main; sys.exit(main())"
"""The ``wattsup`` console script, run by this interpreter."""


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``wattsup dashboard`` over a SQLite store of the study (and serving runs), in a process of its own on
    a free loopback port; its base URL."""
    import subprocess
    import sys
    import time
    import urllib.request

    folder = tmp_path_factory.mktemp("served")
    db = folder / "runs.db"
    with Store.open(str(db)) as store:
        store.add_many(study_records())
    fill(db)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "WATTSUP_DB"}
    log = (folder / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", _MAIN, "dashboard", "--db", str(db), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/facets", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.close()
                    pytest.fail(f"wattsup dashboard did not start:\n{(folder / 'server.log').read_text()}")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
