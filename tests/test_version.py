"""``wattsup.__version__`` is the installed distribution's version: pyproject.toml is the one place the
number is written (issue 16)."""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import wattsup

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def reload_wattsup() -> Iterator[None]:
    yield
    importlib.reload(wattsup)  # back to the real metadata for the tests that follow


def test_the_version_is_the_installed_distributions() -> None:
    assert wattsup.__version__ == importlib.metadata.version("wattsup")


def test_pyproject_is_the_only_place_the_number_is_written() -> None:
    number = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    literal = re.compile(rf"""__version__\s*=\s*["']\d+\.\d+|["']{re.escape(number)}["']""")
    copies = [
        str(p.relative_to(ROOT))
        for p in sorted((ROOT / "src").rglob("*.py"))
        if literal.search(p.read_text(encoding="utf-8"))
    ]
    assert not copies, f"the version is written again in {copies}: use wattsup.__version__"


def test_an_uninstalled_tree_says_its_version_is_unknown(
    monkeypatch: pytest.MonkeyPatch, reload_wattsup: None
) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    importlib.reload(wattsup)
    assert wattsup.__version__ == "0+unknown"
