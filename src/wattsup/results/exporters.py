"""Exporters: runs (one flat row per run) or phases (one row per repetition × phase × component) to CSV,
Parquet, JSON (an array) or JSON Lines, streamed from the store in chunks so any size fits in memory.
The formats are :mod:`wattsup.results.formats`' (a file appears whole or not at all)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, get_args

from wattsup.errors import InvalidInput
from wattsup.results.formats import FORMATS, JSON_TEXT, Format, choose_format, format_for, write
from wattsup.results.store import RunFilter, Store
from wattsup.results.tables import PHASE_EXPORT_COLUMNS, RUN_COLUMNS, column_kind, phases, runs

TableName = Literal["runs", "phases"]
TABLES: tuple[str, ...] = get_args(TableName)


def columns(table: TableName, *, full: bool = False) -> list[tuple[str, str]]:
    """``(name, kind)`` of each exported column (kinds as :func:`~wattsup.results.tables.column_kind`)."""
    if table == "runs":
        names = [(c, column_kind(runs, c)) for c in RUN_COLUMNS]
        return [*names, ("record_json", JSON_TEXT)] if full else names
    return [
        (c, column_kind(runs if c in ("config_hash", "task", "model", "hardware") else phases, c))
        for c in PHASE_EXPORT_COLUMNS
    ]


def export(
    store: Store,
    out: str | Path,
    *,
    fmt: str | None = None,
    table: str = "runs",
    filters: RunFilter | None = None,
    full: bool = False,
) -> int:
    """Write the runs (or phases) matching ``filters`` to ``out`` (``"-"``: standard output, text formats
    only) as ``fmt`` (default: from the file name's suffix). ``full`` adds each run's whole record
    (``record_json``; a nested ``record`` object in JSON). Returns the number of rows written."""
    if table not in TABLES:
        raise InvalidInput("--table", f"must be one of {', '.join(TABLES)}, got {table!r}")
    chosen = choose_format(out, fmt)
    if full and table != "runs":
        raise InvalidInput("--full", "applies to runs only (phases are rows of the runs' records)")
    cols = columns(table, full=full)  # type: ignore[arg-type]
    chunks: Iterator[list[dict[str, Any]]] = (
        store.iter_run_rows(filters, full=full) if table == "runs" else store.iter_phase_rows(filters)
    )
    return write(out, chunks, fmt=chosen, columns=cols, stem=table)


__all__ = ["FORMATS", "TABLES", "Format", "TableName", "columns", "export", "format_for"]
