"""Every page shows what it showed before: each page route, rendered over the study's runs (and over
an empty store), against its golden file in ``tests/web/golden/`` (see ``golden.py``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import HOSTS
from fastapi.testclient import TestClient
from golden import EMPTY_PAGES, PAGES, golden_path, normalise
from web_factories import study_records
from web_serving import fill

from wattsup.results import Store
from wattsup.web import create_app

WRITE = os.environ.get("WATTSUP_WRITE_GOLDEN", "") == "1"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    """The dashboard over the study's runs (and serving runs) in a SQLite file, and the store's location."""
    db = tmp_path_factory.mktemp("golden") / "runs.db"
    with Store.open(str(db)) as store:
        store.add_many(study_records())
        fill(db)
        with TestClient(create_app(store, allowed_hosts=HOSTS, cache_s=0)) as client:
            yield client, store.location


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    with Store.open(str(tmp_path_factory.mktemp("golden-empty") / "runs.db")) as store:
        client = TestClient(create_app(store, allowed_hosts=HOSTS))
        yield client, store.location


def _check(site: tuple[TestClient, str], name: str, path: str) -> None:
    client, location = site
    r = client.get(path)
    assert r.headers["content-type"].startswith("text/html"), (path, r.status_code)
    got = f"GET {path}\nstatus: {r.status_code}\n" + normalise(r.text, location)
    where = golden_path(name)
    if WRITE:
        where.parent.mkdir(exist_ok=True)
        where.write_text(got, encoding="utf-8")
    assert where.exists(), f"no golden file {where}: run with WATTSUP_WRITE_GOLDEN=1 to write it"
    want = where.read_text(encoding="utf-8")
    assert got == want, f"{path} differs from {where.name}"


@pytest.mark.parametrize(("name", "path"), PAGES.items(), ids=list(PAGES))
def test_page_matches_its_golden_file(study: tuple[TestClient, str], name: str, path: str) -> None:
    _check(study, name, path)


@pytest.mark.parametrize(("name", "path"), EMPTY_PAGES.items(), ids=list(EMPTY_PAGES))
def test_empty_store_page_matches_its_golden_file(
    empty: tuple[TestClient, str], name: str, path: str
) -> None:
    _check(empty, name, path)


def test_every_golden_file_is_a_page() -> None:
    names = {p.stem for p in Path(golden_path("x").parent).glob("*.txt")}
    assert names == set(PAGES) | set(EMPTY_PAGES)
