"""What the command-line tests share: an isolated environment (no user store, offline hub), the test
helpers of the other folders as importable modules (``analysis_factories``, ``results_factories``,
``web_factories``, ``fake_powercap``), and the dashboard served on loopback.

``tests`` is not a package, so the helpers are loaded from their files here and registered under their
module names; no test edits ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

TESTS = Path(__file__).resolve().parents[1]
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _load(name: str, path: Path) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


for _name, _folder in (
    ("analysis_factories", "analysis"),
    ("results_factories", "results"),
    ("web_factories", "web"),
    ("web_serving", "web"),
    ("fake_powercap", "sensors"),
):
    _load(_name, TESTS / _folder / f"{_name}.py")

_web = _load("tests_web_conftest", TESTS / "web" / "conftest.py")
_results = _load("tests_results_conftest", TESTS / "results" / "conftest.py")
served = _web.served
"""``wattsup dashboard`` over a SQLite store of the study, on a free loopback port (tests/web)."""
pg_url = _results.pg_url
pg_database = _results.pg_database
store_url = _results.store_url
"""A store URL: a SQLite file, and PostgreSQL where WATTSUP_TEST_PG_URL is set (tests/results)."""


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never touch the user's real store: no WATTSUP_DB, the data directory is a temp dir, the
    model hub is offline."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("WATTSUP_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
