"""Export analysis results (summaries, leaderboards, fits...) as CSV, Parquet, JSON or JSON Lines.

Rows are the analysis models, one object per row. JSON keeps nested fields (per-dataset rows, points);
CSV and Parquet hold flat columns, so a nested field is written as a JSON string. Datetimes are ISO 8601
(UTC); unknown values are empty in CSV and ``null`` elsewhere. The file appears whole or not at all.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from wattsup.errors import WattsupError
from wattsup.results.exporters import choose_format, write_output


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
    chosen = choose_format(out, fmt)
    plain = _rows(rows)

    def text(fh: IO[str]) -> int:
        write_rows(plain, chosen, fh)
        return len(plain)

    def parquet(path: Path) -> int:
        _parquet(plain, path)
        return len(plain)

    return write_output(out, chosen, "summary", text, parquet)


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
