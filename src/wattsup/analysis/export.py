"""Export analysis results (summaries, leaderboards, fits...) as CSV, Parquet, JSON or JSON Lines.

Rows are the analysis models, one object per row. JSON keeps nested fields (per-dataset rows, points);
CSV and Parquet hold flat columns, so a nested field is written as a JSON string. Datetimes are ISO 8601
(UTC); unknown values are empty in CSV and ``null`` elsewhere. The file appears whole or not at all.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from wattsup.errors import InvalidInput, WattsupError

FORMATS: tuple[str, ...] = ("csv", "parquet", "json", "jsonl")
_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".json": "json", ".jsonl": "jsonl"}


def format_for(out: str | Path) -> str | None:
    return _SUFFIXES.get(Path(out).suffix.lower())


def _plain(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _rows(rows: Sequence[BaseModel | dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        d = r.model_dump(mode="json") if isinstance(r, BaseModel) else dict(r)
        out.append({k: _plain(v) for k, v in d.items()})
    return out


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else v for k, v in row.items()}


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def write_rows(rows: list[dict[str, Any]], fmt: str, fh: IO[str]) -> None:
    """Write plain rows as a text format to an open file."""
    if fmt == "csv":
        cols = _columns(rows)
        writer = csv.writer(fh)
        writer.writerow(cols)
        for r in rows:
            flat = _flat(r)
            writer.writerow(
                [
                    ""
                    if flat.get(c) is None
                    else ("true" if flat[c] is True else "false" if flat[c] is False else flat[c])
                    for c in cols
                ]
            )
    elif fmt == "json":
        json.dump(rows, fh, ensure_ascii=False, indent=1, allow_nan=False)
        fh.write("\n")
    else:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n")


def export_rows(rows: Sequence[BaseModel | dict[str, Any]], out: str | Path, fmt: str | None = None) -> int:
    """Write ``rows`` to ``out`` (``"-"``: standard output, text formats only) as ``fmt`` (default: from
    the file name's suffix). Returns the number of rows written."""
    chosen = fmt or format_for(out)
    if chosen is None:
        raise InvalidInput(
            "--format", f"give one of {', '.join(FORMATS)} (the name {str(out)!r} does not say)"
        )
    if chosen not in FORMATS:
        raise InvalidInput("--format", f"must be one of {', '.join(FORMATS)}, got {chosen!r}")
    plain = _rows(rows)
    if str(out) == "-":
        if chosen == "parquet":
            raise InvalidInput("--out", "Parquet is binary: give a file path, not '-'")
        write_rows(plain, chosen, sys.stdout)
        return len(plain)
    path = Path(out).expanduser()
    if path.is_dir():
        raise InvalidInput(
            "--out", f"{path} is a directory; give a file path such as {path / ('summary.' + chosen)}"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidInput("--out", f"cannot create {path.parent} ({err.strerror})") from None
    partial = path.with_name(path.name + ".partial")
    try:
        if chosen == "parquet":
            _parquet(plain, partial)
        else:
            with partial.open("w", encoding="utf-8", newline="") as fh:
                write_rows(plain, chosen, fh)
        os.replace(partial, path)
    except OSError as err:
        raise InvalidInput("--out", f"cannot write {path} ({err.strerror})") from None
    finally:
        partial.unlink(missing_ok=True)
    return len(plain)


def _parquet(rows: list[dict[str, Any]], path: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise WattsupError(
            "Parquet export needs pyarrow: pip install 'wattsup[analysis]' (or use --format csv|json)"
        ) from None
    flat = [_flat(r) for r in rows]
    cols = _columns(flat)
    table = pa.Table.from_pylist([{c: r.get(c) for c in cols} for r in flat]) if flat else pa.table({})
    pq.write_table(table, str(path), compression="zstd")
