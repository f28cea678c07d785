"""Which runs a query means: :class:`RunFilter` (fields ANDed, values ORed, globs case-insensitive) and
the SQL clauses it becomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from wattsup.results.tables import runs


def glob_to_like(pattern: str) -> str:
    """A shell-style glob (``*``, ``?``) as a SQL LIKE pattern with ``\\`` as the escape character."""
    out = []
    for ch in pattern:
        if ch in "\\%_":
            out.append("\\" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)


def match(column: ColumnElement[Any], values: str | Sequence[str]) -> ColumnElement[bool]:
    """``column`` equals one of ``values`` (case-insensitive glob for values with ``*`` or ``?``)."""
    items = [values] if isinstance(values, str) else list(values)
    exact = [v for v in items if "*" not in v and "?" not in v]
    parts: list[ColumnElement[bool]] = [
        column.ilike(glob_to_like(v), escape="\\") for v in items if v not in exact
    ]
    if exact:
        parts.append(column.in_(exact))
    return sa.or_(*parts)


@dataclass(frozen=True)
class RunFilter:
    """Which runs: each field given narrows the selection (AND); a field may list several values (OR).
    A value with ``*`` or ``?`` is a case-insensitive glob (``--model 'bert*'``); others match exactly."""

    task: str | Sequence[str] | None = None
    model: str | Sequence[str] | None = None
    dataset: str | Sequence[str] | None = None
    status: str | Sequence[str] | None = None
    hardware: str | Sequence[str] | None = None
    device: str | Sequence[str] | None = None
    config_hash: str | Sequence[str] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        for name in ("task", "model", "dataset", "status", "hardware", "device", "config_hash"):
            values = getattr(self, name)
            if values is not None and (isinstance(values, str) or len(values) > 0):
                out.append(match(runs.c[name], values))
        if self.since is not None:
            out.append(runs.c.started_at >= self.since)
        if self.until is not None:
            out.append(runs.c.started_at < self.until)
        return out


def clauses_of(filters: RunFilter | None) -> list[ColumnElement[bool]]:
    return filters.clauses() if filters is not None else []
