"""Names a package exports but imports only on first use, so that importing the package costs none of its
submodules' dependencies (SQLAlchemy, matplotlib, torch). A root module: every layer may use it."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``where[name]`` is the module that defines ``name``,
    imported when the name is first read; any other name is an ``AttributeError``."""

    def attribute(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return attribute
