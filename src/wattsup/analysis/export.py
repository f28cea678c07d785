"""Export analysis results (summaries, leaderboards, fits...) as CSV, Parquet, JSON or JSON Lines.

Rows are the analysis models, one object per row; the formats are :mod:`wattsup.results.formats`' (JSON
keeps nested fields such as per-dataset rows and points; CSV and Parquet hold them as JSON text; unknown
values are empty in CSV and ``null`` elsewhere; the file appears whole or not at all).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from wattsup.results.formats import write


def export_rows(rows: Sequence[BaseModel | dict[str, Any]], out: str | Path, fmt: str | None = None) -> int:
    """Write ``rows`` to ``out`` (``"-"``: standard output, text formats only) as ``fmt`` (default: from
    the file name's suffix). Returns the number of rows written."""
    plain = [r.model_dump(mode="json") if isinstance(r, BaseModel) else dict(r) for r in rows]
    return write(out, [plain], fmt=fmt, stem="summary")
