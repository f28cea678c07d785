"""The report shows the same content as the golden files captured before the figures and templates were
redone (tests/report/golden): headings, paragraphs, tables, notes and which figures, with their traces.

Regenerate after a deliberate change of content: ``WATTSUP_UPDATE_GOLDEN=1 pytest tests/report``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.report.outline import html_outline, markdown_outline
from tests.support.report_stores import CASES
from wattsup.report import build_report

GOLDEN = Path(__file__).parent / "golden"


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("WATTSUP_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed; diff it with the report built now"


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_report_shows_the_golden_content(case: str, tmp_path: Path) -> None:
    make, options, location = CASES[case]
    with make(tmp_path / "runs.db") as store:
        files = build_report(store, tmp_path / "out", options, location=location)
    _compare(f"{case}.html.txt", html_outline(files.html.read_text(encoding="utf-8")))
    _compare(f"{case}.summary.md", markdown_outline(files.markdown.read_text(encoding="utf-8")))
    _compare(f"{case}.figures.txt", "\n".join(sorted(files.figures)) + "\n")
