"""Terminal output shared by the commands: the console, plain tables and number cells.

rich is imported when output is made, not when the CLI starts.
"""

from __future__ import annotations

import sys
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table


def console(
    *, stderr: bool = False, piped_width: int = 200, width: int | None = None, soft_wrap: bool = False
) -> Console:
    """A console on standard output (or error): the terminal's own width, or ``piped_width`` columns when
    the output is piped or captured (room for wide tables); ``width`` fixes it either way."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if width is None and not stream.isatty():
        width = piped_width
    return Console(highlight=False, soft_wrap=soft_wrap, stderr=stderr, width=width)


def table(columns: Iterable[str] = (), *, right: Collection[str] = (), **style: Any) -> Table:
    """A rich table of ``columns``, those named in ``right`` right-aligned; ``style``: the table's own
    settings (title, box, ...)."""
    from rich.table import Table

    made = Table(**style)
    for col in columns:
        made.add_column(col, justify="right" if col in right else "left")
    return made


def plain_table(
    columns: Iterable[str] = (), *, title: str | None = None, right: Collection[str] = ()
) -> Table:
    """A borderless table with bold headers and ``columns``, those named in ``right`` right-aligned."""
    return table(columns, right=right, box=None, header_style="bold", pad_edge=False, title=title)


def num(v: float | None, fmt: str = ".4g") -> str:
    """A number cell; ``unknown`` where there is no value (never a silent zero)."""
    return "unknown" if v is None else format(v, fmt)
