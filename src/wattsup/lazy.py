"""Packages that load their submodules on first use (PEP 562), so that importing a package costs
nothing until one of its names is asked for."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name of ``where`` is imported on first use from
    the module it maps to; any other name is an :class:`AttributeError`, as for a plain module."""

    def attribute(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return attribute
