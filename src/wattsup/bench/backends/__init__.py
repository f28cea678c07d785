"""The backends a scenario runs on, by name. Importing this package imports no heavy library: a backend's
module imports torch and its library when a backend is made.

    transformers   every task but text-to-image (:mod:`wattsup.bench.backends.transformers`)
    diffusers      text-to-image (:mod:`wattsup.bench.backends.diffusers`)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from wattsup.errors import NotFound

if TYPE_CHECKING:
    from wattsup.bench.backends.base import Backend, BackendSettings
    from wattsup.bench.catalog import CatalogEntry

BACKENDS: dict[str, tuple[str, str]] = {
    "transformers": ("wattsup.bench.backends.transformers", "TransformersBackend"),
    "diffusers": ("wattsup.bench.backends.diffusers", "DiffusersBackend"),
}


def backend_class(name: str) -> Any:
    """The backend class called ``name`` (it has ``Settings``, its pydantic settings model)."""
    if name not in BACKENDS:
        raise NotFound("backend", name, list(BACKENDS))
    module, cls = BACKENDS[name]
    return getattr(importlib.import_module(module), cls)


def settings_class(name: str) -> type[BackendSettings]:
    cls: type[BackendSettings] = backend_class(name).Settings
    return cls


def make_backend(name: str, settings: BackendSettings) -> Backend:
    """A backend of ``name`` with ``settings`` (an instance of its ``Settings``)."""
    backend: Backend = backend_class(name)(settings)
    return backend


def count_parameters(entry: CatalogEntry) -> int:
    """A catalog entry's parameter count, built on the ``meta`` device by the backend that runs it, the way
    its published count was taken (see :func:`wattsup.bench.backends.transformers.count_parameters`;
    diffusion pipelines: all their modules)."""
    if entry.is_diffusion:
        from wattsup.bench.backends.diffusers import count_pipeline_parameters

        return count_pipeline_parameters(entry)
    from wattsup.bench.backends.transformers import count_parameters as count

    return count(entry)


__all__ = ["BACKENDS", "backend_class", "count_parameters", "make_backend", "settings_class"]
