"""Importers: measurements made by other tools, as wattsup runs.

- :func:`import_codecarbon`: CodeCarbon CSV logs, plain and task mode (rows sharing a ``run_id`` are
  one run; task-mode rows are its phases). Reads the Power Hungry Processing study's file naming.
- :func:`import_optimum`: optimum-benchmark reports (the AI Energy Score's format).

The readers load when first used (:class:`ImportOptions` alone is light, for the command line).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wattsup.results.importers.options import ImportOptions, ImportReport, csv_files

if TYPE_CHECKING:
    from wattsup.results.importers.codecarbon import import_codecarbon, read_codecarbon
    from wattsup.results.importers.optimum import import_optimum, report_files
    from wattsup.results.importers.study import StudyName, parse_name, read_lengths, read_params

__all__ = [
    "ImportOptions",
    "ImportReport",
    "StudyName",
    "csv_files",
    "import_codecarbon",
    "import_optimum",
    "parse_name",
    "read_codecarbon",
    "read_lengths",
    "read_params",
    "report_files",
]

_LAZY = {
    "import_codecarbon": "wattsup.results.importers.codecarbon",
    "read_codecarbon": "wattsup.results.importers.codecarbon",
    "import_optimum": "wattsup.results.importers.optimum",
    "report_files": "wattsup.results.importers.optimum",
    "StudyName": "wattsup.results.importers.study",
    "parse_name": "wattsup.results.importers.study",
    "read_lengths": "wattsup.results.importers.study",
    "read_params": "wattsup.results.importers.study",
}
"""Loaded when first used: the options are all the command line needs to build its options, and the
readers bring the store (SQLAlchemy) with them."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'wattsup.results.importers' has no attribute {name!r}")
