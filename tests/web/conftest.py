"""Dashboard fixtures: the study's runs in a real SQLite file and on the real PostgreSQL server
(``WATTSUP_TEST_PG_URL``, as tests/results does), the app over each, and FastAPI's TestClient.

The stores are built once per session: the dashboard only reads, and a test that checks that writes
are refused uses a store of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_factories import study_records
from web_serving import serving_results

from tests.support.postgres import new_database
from wattsup.results import Store
from wattsup.web import create_app

HOSTS = ("testserver", "127.0.0.1", "localhost")


def _url(request: pytest.FixtureRequest, folder: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{folder / 'runs.db'}"
    else:
        with new_database(request.getfixturevalue("pg_url"), "wattsup_web") as url:
            yield url


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
def _isolated(no_user_store: None) -> None:
    """Tests never touch the user's real store (tests/conftest.py)."""
