"""The one place that knows wattsup's file formats: CSV, Parquet, JSON (an array) and JSON Lines; which one
a ``--format`` or a file name asks for; how each writes a value; and writing a file whole or not at all.

Rows are dicts, given in chunks so that any number of them streams through in bounded memory. Columns are
``(name, kind)``: kinds ``str``, ``int``, ``float``, ``bool``, ``datetime`` (as
:func:`wattsup.results.tables.column_kind` names them) and ``json-text`` (a string holding JSON: text in CSV
and Parquet, the object itself under the name without ``_json`` in JSON and JSON Lines). Without columns,
they are the rows' keys in the order they first appear and Parquet infers the types. Unknown values are
empty in CSV and ``null`` elsewhere (a float that is not finite is unknown); datetimes are ISO 8601; a list
or dict is nested in JSON and a JSON string in CSV and Parquet.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, get_args

from wattsup.errors import InvalidInput, WattsupError

Format = Literal["csv", "parquet", "json", "jsonl"]
FORMATS: tuple[str, ...] = get_args(Format)
Column = tuple[str, str]
Chunks = Iterable[list[dict[str, Any]]]

_SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
JSON_TEXT = "json-text"


def format_for(path: str | Path) -> Format | None:
    """The format a file name implies (``runs.parquet`` → ``parquet``), if any."""
    found = _SUFFIXES.get(Path(path).suffix.lower())
    return found  # type: ignore[return-value]


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


def write(
    out: str | Path,
    chunks: Chunks,
    *,
    fmt: str | None = None,
    columns: list[Column] | None = None,
    stem: str = "rows",
) -> int:
    """Write the rows of ``chunks`` to ``out`` (``"-"``: standard output, text formats only) as ``fmt``
    (default: from the file name's suffix). ``stem`` names the example file in the error for a directory.
    Returns the number of rows written."""
    chosen = choose_format(out, fmt)
    if columns is None:
        rows = [row for chunk in chunks for row in chunk]
        columns = [(name, "") for name in _keys(rows)]
        chunks = [rows]
    cols = columns
    return write_output(
        out,
        chosen,
        stem,
        lambda fh: _write_text(chosen, cols, iter(chunks), fh),
        lambda path: _write_parquet(path, cols, iter(chunks)),
    )


def write_output(
    out: str | Path,
    chosen: str,
    stem: str,
    write_text: Callable[[IO[str]], int],
    write_parquet: Callable[[Path], int],
) -> int:
    """Write to ``out`` (``"-"``: standard output, text formats only) through the writer for ``chosen``.
    A file appears only once complete (written to ``NAME.partial``, then renamed), so a failed export
    leaves no truncated file."""
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


def _keys(rows: list[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def _known(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def _flat_value(v: Any) -> Any:
    """A value as a flat column holds it (CSV, Parquet): nested values as JSON text."""
    v = _known(v)
    if isinstance(v, list | dict):
        return json.dumps(v, ensure_ascii=False)
    return v


def _csv_value(v: Any) -> Any:
    v = _flat_value(v)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return v.isoformat()
    return v


def _json_row(row: dict[str, Any], cols: list[Column]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for name, kind in cols:
        v = _known(row.get(name))
        if kind == JSON_TEXT and v is not None:
            obj[name.removesuffix("_json")] = json.loads(v)
        else:
            obj[name] = v.isoformat() if isinstance(v, datetime) else v
    return obj


def _write_text(fmt: str, cols: list[Column], chunks: Iterator[list[dict[str, Any]]], fh: IO[str]) -> int:
    n = 0
    names = [c for c, _ in cols]
    if fmt == "csv":
        writer = csv.writer(fh)
        writer.writerow(names)
        for chunk in chunks:
            writer.writerows([_csv_value(row.get(c)) for c in names] for row in chunk)
            n += len(chunk)
        return n
    fh.write("[" if fmt == "json" else "")
    for chunk in chunks:
        buf = io.StringIO()
        for row in chunk:
            if fmt == "json":
                buf.write(",\n " if n else "\n ")
            buf.write(json.dumps(_json_row(row, cols), ensure_ascii=False, allow_nan=False))
            if fmt == "jsonl":
                buf.write("\n")
            n += 1
        fh.write(buf.getvalue())
    if fmt == "json":
        fh.write("\n]\n" if n else "]\n")
    return n


def _write_parquet(path: Path, cols: list[Column], chunks: Iterator[list[dict[str, Any]]]) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise WattsupError(
            "Parquet export needs pyarrow: pip install 'wattsup[analysis]' (or use --format csv|json)"
        ) from None
    types = {
        "str": pa.string(),
        JSON_TEXT: pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "datetime": pa.timestamp("us", tz="UTC"),
    }
    typed = all(kind in types for _, kind in cols)
    schema = pa.schema([pa.field(name, types[kind]) for name, kind in cols]) if typed else None
    n = 0
    writer: Any = None
    try:
        for chunk in chunks:
            data = {name: [_flat_value(row.get(name)) for row in chunk] for name, _ in cols}
            table = pa.Table.from_pydict(data, schema=schema)
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema, compression="zstd")
            writer.write_table(table)
            n += len(chunk)
        if writer is None:
            empty = schema.empty_table() if schema is not None else pa.table({})
            pq.write_table(empty, str(path), compression="zstd")
    finally:
        if writer is not None:
            writer.close()
    return n


__all__ = ["FORMATS", "Column", "Format", "choose_format", "format_for", "write", "write_output"]
