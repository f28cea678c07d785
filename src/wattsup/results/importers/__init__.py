"""Importers: measurements made by other tools, as wattsup runs.

- :func:`import_codecarbon`: CodeCarbon CSV logs, plain and task mode (rows sharing a ``run_id`` are
  one run; task-mode rows are its phases). Reads the Power Hungry Processing study's file naming.
- :func:`import_optimum`: optimum-benchmark reports (the AI Energy Score's format).
"""

from __future__ import annotations

from wattsup.results.importers.codecarbon import import_codecarbon, read_codecarbon
from wattsup.results.importers.optimum import import_optimum, report_files
from wattsup.results.importers.options import ImportOptions, ImportReport, csv_files
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
