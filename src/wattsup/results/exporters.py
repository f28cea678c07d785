"""Exporters: runs (one flat row per run) or phases (one row per repetition × phase × component) to CSV,
Parquet, JSON (an array) or JSON Lines, streamed from the store in chunks so any size fits in memory.

The file appears whole or not at all: it is written next to its destination and renamed when done.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, get_args

from wattsup.errors import InvalidInput, WattsupError
from wattsup.results.store import RunFilter, Store
from wattsup.results.tables import PHASE_EXPORT_COLUMNS, RUN_COLUMNS, column_kind, phases, runs

Format = Literal["csv", "parquet", "json", "jsonl"]
FORMATS: tuple[str, ...] = get_args(Format)
TableName = Literal["runs", "phases"]
TABLES: tuple[str, ...] = get_args(TableName)

_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def format_for(path: str | Path) -> Format | None:
    """The format a file name implies (``runs.parquet`` → ``parquet``), if any."""
    found = _SUFFIXES.get(Path(path).suffix.lower())
    return found  # type: ignore[return-value]


def columns(table: TableName, *, full: bool = False) -> list[tuple[str, str]]:
    """``(name, kind)`` of each exported column (kinds as :func:`~wattsup.results.tables.column_kind`)."""
    if table == "runs":
        names = [(c, column_kind(runs, c)) for c in RUN_COLUMNS]
        return [*names, ("record_json", "str")] if full else names
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
    return write_output(
        out,
        chosen,
        table,
        lambda fh: _write_text(chosen, cols, chunks, fh),
        lambda path: _write_parquet(path, cols, chunks),
    )


def choose_format(out: str | Path, fmt: str | None) -> str:
    """The output format: ``fmt``, else the file name's suffix; an error naming --format otherwise."""
    chosen = fmt or format_for(out)
    if chosen is None:
        raise InvalidInput(
            "--format", f"give one of {', '.join(FORMATS)} (the name {str(out)!r} does not say)"
        )
    if chosen not in FORMATS:
        raise InvalidInput("--format", f"must be one of {', '.join(FORMATS)}, got {chosen!r}")
    return chosen


def write_output(
    out: str | Path,
    chosen: str,
    stem: str,
    write_text: Callable[[IO[str]], int],
    write_parquet: Callable[[Path], int],
) -> int:
    """Write to ``out`` (``"-"``: standard output, text formats only) through the writer for ``chosen``.
    A file appears only once complete (written to ``NAME.partial``, then renamed), so a failed export
    leaves no truncated file. ``stem`` names the example file in the error for a directory."""
    if str(out) == "-":
        if chosen == "parquet":
            raise InvalidInput("--out", "Parquet is binary: give a file path, not '-'")
        return write_text(sys.stdout)
    path = Path(out).expanduser()
    if path.is_dir():
        raise InvalidInput(
            "--out", f"{path} is a directory; give a file path such as {path / (stem + '.' + chosen)}"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidInput("--out", f"cannot create {path.parent} ({err.strerror})") from None
    partial = path.with_name(path.name + ".partial")
    try:
        if chosen == "parquet":
            n = write_parquet(partial)
        else:
            with partial.open("w", encoding="utf-8", newline="") as fh:
                n = write_text(fh)
        os.replace(partial, path)
    except OSError as err:
        raise InvalidInput("--out", f"cannot write {path} ({err.strerror})") from None
    finally:
        partial.unlink(missing_ok=True)
    return n


def _write_text(
    fmt: str, cols: list[tuple[str, str]], chunks: Iterator[list[dict[str, Any]]], fh: IO[str]
) -> int:
    n = 0
    names = [c for c, _ in cols]
    if fmt == "csv":
        writer = csv.writer(fh)
        writer.writerow(names)
        for chunk in chunks:
            writer.writerows([_csv_value(row[c]) for c in names] for row in chunk)
            n += len(chunk)
        return n
    fh.write("[" if fmt == "json" else "")
    for chunk in chunks:
        buf = io.StringIO()
        for row in chunk:
            obj = {c: _json_value(row[c]) for c in names}
            if "record_json" in obj:
                obj["record"] = json.loads(obj.pop("record_json"))
            if fmt == "json":
                buf.write(",\n " if n else "\n ")
            buf.write(json.dumps(obj, ensure_ascii=False, allow_nan=False))
            if fmt == "jsonl":
                buf.write("\n")
            n += 1
        fh.write(buf.getvalue())
    if fmt == "json":
        fh.write("\n]\n" if n else "]\n")
    return n


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return v.isoformat()
    return v


def _json_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _write_parquet(path: Path, cols: list[tuple[str, str]], chunks: Iterator[list[dict[str, Any]]]) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise WattsupError(
            "Parquet export needs pyarrow: pip install 'wattsup[analysis]' (or export --format csv|json)"
        ) from None
    types = {
        "str": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "datetime": pa.timestamp("us", tz="UTC"),
    }
    schema = pa.schema([pa.field(name, types[kind]) for name, kind in cols])
    n = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for chunk in chunks:
            data = {name: [row[name] for row in chunk] for name, _ in cols}
            writer.write_table(pa.Table.from_pydict(data, schema=schema))
            n += len(chunk)
        if n == 0:
            writer.write_table(schema.empty_table())
    return n
