"""Reading the packaged tables under ``wattsup/data/carbon``: the only I/O this package does."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Literal

Bound = Literal["low", "central", "high"]
BOUNDS: tuple[Bound, ...] = ("low", "central", "high")

Row = Mapping[str, str]


@cache
def read_table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a packaged CSV table, cached (the tables are read-only package data)."""
    ref = resources.files("wattsup").joinpath("data").joinpath("carbon").joinpath(name)
    text = ref.read_text(encoding="utf-8")
    return tuple(dict(row) for row in csv.DictReader(io.StringIO(text)))


def opt_float(value: str | None) -> float | None:
    """A float from a table cell; an empty cell is ``None`` (unknown), never zero."""
    if value is None or value.strip() == "":
        return None
    return float(value)


def opt_int(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    return int(value)


def split_list(value: str | None) -> list[str]:
    if not value:
        return []
    return [v.strip() for v in value.split(";") if v.strip()]


@cache
def defaults() -> dict[str, tuple[float, str]]:
    """The documented defaults (``defaults.csv``): key -> (value, source with year)."""
    return {r["key"]: (float(r["value"]), f"{r['source']} ({r['year']})") for r in read_table("defaults.csv")}


def default_value(key: str) -> float:
    return defaults()[key][0]


def default_source(key: str) -> str:
    return defaults()[key][1]
