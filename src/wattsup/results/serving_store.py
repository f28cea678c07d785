"""Storing serving results in the results store (its ``serving_runs`` table) and reading them back.

The serving layer measures and hands back a :class:`~wattsup.serving.results.ServingResult`; keeping it is
the results layer's work, so this module, not ``wattsup.serving``, opens the store."""

from __future__ import annotations

from wattsup.results.serving_table import ServingRow, add_serving, get_serving, list_serving
from wattsup.results.store import Store
from wattsup.serving.results import ServingResult

__all__ = ["load_result", "save_result", "stored_results"]


def save_result(result: ServingResult, db: str | None = None) -> str:
    """Store ``result`` (``db``: a path or URL; None: the default store). Returns where it went."""
    row = ServingRow(
        id=result.id,
        created_at=result.created_at,
        engine=result.engine.engine,
        model=result.engine.model,
        profile=result.profile,
        levels=len(result.levels),
        result_json=result.model_dump_json(),
    )
    with Store.open(db) as store:
        add_serving(store, row)
        return store.location


def load_result(id: str, db: str | None = None) -> ServingResult:
    """One stored result by its id (or a unique prefix)."""
    with Store.open(db, create=False) as store:
        return ServingResult.model_validate_json(get_serving(store, id).result_json)


def stored_results(db: str | None = None, limit: int | None = None) -> list[ServingResult]:
    """Stored results, newest first."""
    with Store.open(db, create=False) as store:
        return [ServingResult.model_validate_json(r.result_json) for r in list_serving(store, limit)]
