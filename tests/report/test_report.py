"""The report's files: the self-contained page, the PNGs drawn from the same figures, the Markdown summary
(escaped), the labels of modelled figures, and the Serving section from stored serving runs."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.analysis_records import record
from tests.support.report_stores import FULL_OPTIONS, filled_store, modelled_store
from tests.support.serving_records import store_results, two_models
from wattsup.analysis import ReportOptions, Scenario, Selection
from wattsup.errors import InvalidInput
from wattsup.report import build_report
from wattsup.results import Store

PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = {"energy_by_task", "energy_vs_params", "multi_vs_task", "phases", "output_length", "lifecycle"}


def _script_sources(page: str) -> list[str]:
    found: list[str] = []

    class Scripts(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in ("script", "link"):
                found.extend(v or "" for k, v in attrs if k in ("src", "href"))

    Scripts().feed(page)
    return found


def test_report_files(tmp_path: Path) -> None:
    with filled_store(tmp_path / "runs.db") as store:
        files = build_report(store, tmp_path / "out", FULL_OPTIONS, location="test.db")
    assert set(files.figures) == FIGURES
    for p in files.figures.values():
        assert p.read_bytes()[:8] == PNG and p.stat().st_size > 10_000
    page = files.html.read_text()
    assert _script_sources(page) == []  # offline: plotly.js is embedded, no <script src=...>
    assert len(page) > 3_000_000  # plotly.js itself
    assert page.count("Plotly.newPlot") == len(FIGURES) and "Test report" in page and "text-to-image" in page
    md = files.markdown.read_text()
    assert "| task | models | runs | mean |" in md and "## Life cycle of a deployment" in md
    assert "|  | operational (kgCO2e) | embodied (kgCO2e) | construction (kgCO2e) |" in md
    # FRA has no published grid water intensity: the water line says unknown, never zero
    assert "Water: unknown L (on site " in md and "off site for the electricity unknown L" in md
    assert "![energy_by_task](figures/energy_by_task.png)" in md
    assert "No serving runs in this store" in md and "No serving runs in this store" in page
    assert files.csv.read_text().startswith("task,")


def test_report_without_data_for_some_figures(tmp_path: Path) -> None:
    with Store.open(str(tmp_path / "one.db")) as store:
        store.add(record("t", "m", 1.0))
        files = build_report(store, tmp_path / "out", ReportOptions(scenario=Scenario(region="nowhere-land")))
        assert "energy_by_task" in files.figures and "multi_vs_task" not in files.figures
        assert "multi_vs_task: not drawn (no data)" in files.notes
        assert not any(n.startswith("serving_") for n in files.notes)  # no serving runs: no serving notes
        assert any("life-cycle figure not drawn" in n and "nowhere-land" in n for n in files.notes)
        with pytest.raises(InvalidInput, match="--db"):
            build_report(store, tmp_path / "out2", ReportOptions(selection=Selection(task="none")))


def test_summary_md_carries_names_and_titles_as_text_never_html(tmp_path: Path) -> None:
    evil_model = "<img src=x onerror=alert(1)>|*bold*\n# heading"
    evil_title = "<script>alert('t')</script> [link](http://x)"
    with Store.open(str(tmp_path / "x.db")) as store:
        store.add(record("text-classification", evil_model, 1.0))
        store.add(record("text-classification", "org/ok_model", 2.0))
        files = build_report(store, tmp_path / "out", ReportOptions(title=evil_title))
    text = files.markdown.read_text()
    assert "<img" not in text and "<script" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;\\|\\*bold\\* \\# heading" in text
    assert text.startswith("# &lt;script&gt;alert('t')&lt;/script&gt; \\[link\\](http://x)\n")
    assert "org/ok\\_model" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| 1 | ")]  # the leaderboard's first
    assert len(re.findall(r"(?<!\\)\|", row)) == 8  # 7 columns: the name's '|' did not add one
    page = files.html.read_text()
    body = page[page.index("</head>") :]
    assert "<img src=x" not in body and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


def test_the_report_labels_modelled_figures(tmp_path: Path) -> None:
    with modelled_store(tmp_path / "cpu.db") as store:
        files = build_report(store, tmp_path / "out", ReportOptions(scenario=Scenario(region="FRA")))
    label = "all runs' figures include modelled energy (cpu, ram: estimated from a power model"
    assert label in html.unescape(files.html.read_text()) and label in files.markdown.read_text()
    assert "**Estimates.**" in files.markdown.read_text()


def test_the_serving_section_shows_the_stored_serving_runs(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    with filled_store(db):
        pass
    store_results(db, two_models())
    with Store.open(str(db)) as store:
        files = build_report(store, tmp_path / "out", FULL_OPTIONS)
    md = files.markdown.read_text()
    serving = md[md.index("## Serving") : md.index("## Figures")]
    assert "5 serving runs" in serving
    assert "| org/small | static | c=16 | 0.12 ± 0.01 | counter | 100 | 300 | 20 | yes |" in serving
    assert "| org/small | static | c=32 | 0.15 ± 0.01 | counter | 100 | 500 | 20 | no |" in serving
    assert "| org/large | static | c=64 | unknown | counter | 100 | unknown | 20 | no |" in serving
    assert "### Models at equal load: c=4" in serving and "### Models at equal load: c=16" not in serving
    assert "counter+modeled" in serving  # the method of each figure, modelled included
    serving_figures = {"serving_energy_vs_concurrency", "serving_energy_vs_rate", "serving_pareto"}
    assert serving_figures | {"serving_equal_load"} <= set(files.figures)
    page = html.unescape(files.html.read_text())
    assert "Latency against energy: the Pareto front" in page and "No serving runs" not in page
    assert "Models at equal load: c=1" in page
    with Store.open(str(db)) as store:
        tpot = build_report(store, tmp_path / "tpot", FULL_OPTIONS, serving_latency="tpot")
        assert "on the TPOT Pareto front" in tpot.markdown.read_text()
        with pytest.raises(InvalidInput, match="--latency"):
            build_report(store, tmp_path / "bad", FULL_OPTIONS, serving_latency="p99")
