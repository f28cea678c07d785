"""Run records and the results store.

:mod:`wattsup.records` is the record (:class:`RunConfig`, :class:`RunRecord`, ...);
:class:`Store` keeps records in SQL (a SQLite file by default, PostgreSQL by URL); :func:`export`
writes runs or phases to CSV, Parquet or JSON. SQLAlchemy loads only when the store is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wattsup.lazy import lazy_exports
from wattsup.records import Provenance, Repetition, RunConfig, RunRecord, RunStatus, WeightsSource

if TYPE_CHECKING:
    from wattsup.results.exporters import export
    from wattsup.results.migrations import StoreError
    from wattsup.results.rows import RunSummary
    from wattsup.results.store import RunFilter, Store, StoreMissing, StoreUnavailable, default_db_path

__all__ = [
    "Provenance",
    "Repetition",
    "RunConfig",
    "RunFilter",
    "RunRecord",
    "RunStatus",
    "RunSummary",
    "Store",
    "StoreError",
    "StoreMissing",
    "StoreUnavailable",
    "WeightsSource",
    "default_db_path",
    "export",
]

_LAZY = {
    "export": "wattsup.results.exporters",
    "StoreError": "wattsup.results.migrations",
    "RunSummary": "wattsup.results.rows",
    "RunFilter": "wattsup.results.store",
    "Store": "wattsup.results.store",
    "StoreMissing": "wattsup.results.store",
    "StoreUnavailable": "wattsup.results.store",
    "default_db_path": "wattsup.results.store",
}

__getattr__ = lazy_exports(__name__, _LAZY)
