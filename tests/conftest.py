"""Fixtures that several test folders share: an isolated environment (no user store, the model hub
offline), stores on SQLite and on a real PostgreSQL server, the fake NVML and the hand-moved clock, and the
dashboard served on loopback.

A folder asks for its environment with one autouse fixture of its own conftest (``no_user_store`` or
``scratch_default_store``, with ``quiet_warnings`` where model libraries talk); the rest is requested by
name. The PostgreSQL server comes from ``WATTSUP_TEST_PG_URL`` (``scripts/test.sh`` starts one with
scripts/postgres.sh); each test gets a database of its own, dropped afterwards. Without the URL the
PostgreSQL cases skip, except under ``CI=true``, where they fail: CI must test what teams run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.fakes.timed import TIMED_MODULES
from tests.support.postgres import new_database
from tests.support.processes import free_port, stop
from wattsup.results import Store
from wattsup.sensors import nvml

if TYPE_CHECKING:
    from tests.fakes.nvml import FakeClock, FakeNvml

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
PG_ENV = "WATTSUP_TEST_PG_URL"


# ---------------------------------------------------------------- the environment


@pytest.fixture
def no_user_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The user's real store is never touched: no ``WATTSUP_DB``, the data directory a temp dir, the
    model hub offline."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("WATTSUP_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def scratch_default_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The default store (``WATTSUP_DB``) is a file in the test's temp dir; the model hub is offline."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("WATTSUP_DB", str(tmp_path / "default-runs.db"))


@pytest.fixture
def quiet_warnings() -> Iterator[None]:
    """Warnings are ignored (the model libraries' chatter); a test that expects one still catches it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---------------------------------------------------------------- the fake NVML and the clock


@pytest.fixture
def fresh_nvml_state(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """NVML's module-level reference count starts at zero (restored afterwards).

    Not for the real-GPU tests (marker ``gpu``): their process-wide timeline holds real references."""
    if request.node.get_closest_marker("gpu") is not None:
        return
    monkeypatch.setattr(nvml._library, "refs", 0)
    monkeypatch.setattr(nvml, "_module", None)


@pytest.fixture
def fake_nvml() -> Iterator[Callable[..., FakeNvml]]:
    """``fake_nvml(gpus, clock=None, init_error=None)`` installs a fake NVML for the test."""
    from tests.fakes.nvml import fake_nvml_factory

    make, cleanup = fake_nvml_factory()
    yield make
    cleanup()


@pytest.fixture
def no_nvml(fake_nvml: Callable[..., FakeNvml]) -> FakeNvml:
    """A machine without an NVIDIA driver: ``nvmlInit`` raises ``NVMLError_LibraryNotFound``."""
    import pynvml

    return fake_nvml([], init_error=pynvml.NVMLError_LibraryNotFound)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A hand-moved clock in place of ``time`` in the meter, timeline, sources, sampler and nvml modules."""
    from tests.fakes.nvml import FakeClock

    clock = FakeClock()
    for mod in TIMED_MODULES:
        monkeypatch.setattr(mod, "time", clock)
    return clock


# ---------------------------------------------------------------- stores


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


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server; its SQLAlchemy URL."""
    with new_database(pg_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An empty store: a SQLite file, or a fresh PostgreSQL database."""
    with Store.open(store_url) as s:
        yield s


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(str(tmp_path / "runs.db")) as s:
        yield s


# ---------------------------------------------------------------- the dashboard, on loopback

_MAIN = "import sys; from wattsup.cli import main; sys.exit(main())"
"""The ``wattsup`` console script, run by this interpreter."""


def _wait_until_up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/facets", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"wattsup dashboard did not start:\n{log.read_text()}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``wattsup dashboard`` over a SQLite store of the study (and serving runs), in a process of its own on
    a free loopback port; its base URL."""
    from tests.web.web_factories import study_records
    from tests.web.web_serving import fill

    folder = tmp_path_factory.mktemp("served")
    db = folder / "runs.db"
    with Store.open(str(db)) as s:
        s.add_many(study_records())
    fill(db)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "WATTSUP_DB"}
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", _MAIN, "dashboard", "--db", str(db), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, proc, log)
        yield base
    finally:
        stop(proc)
