"""The analysis life cycle of runs measured on hardware whose embodied carbon is unknown (issue 20): the
GPU is found from the runs' hardware name, operational carbon is given, embodied is None with the reason,
and the total says it excludes embodied."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.analysis_records import record
from wattsup.analysis import Scenario, lifecycle
from wattsup.cli import main
from wattsup.results import Store

ORIN = "NVIDIA Jetson AGX Orin Developer Kit"


def test_lifecycle_on_an_orin_gives_operational_and_embodied_none_with_reason(store: Store) -> None:
    store.add_many([record("text-generation", "a", 0.01, hardware=ORIN)])
    b = lifecycle(store, Scenario(task="text-generation", region="FRA", queries_per_day=1e4, years=1))
    assert b.gpu == "Jetson-AGX-Orin-64GB"  # resolved from the runs' hardware by its alias
    assert b.inference_operational_kg > 0
    assert b.inference_embodied_kg is None and b.total_kg is None
    assert b.total_excluding_embodied_kg == pytest.approx(
        b.inference_operational_kg + (b.inference_construction_kg or 0.0)
    )
    assert any("embodied carbon of Jetson-AGX-Orin-64GB is unknown" in n for n in b.notes)
    assert any("excludes embodied" in n for n in b.notes)
    fp = b.footprint
    assert isinstance(fp["inference"], dict) and fp["inference"]["energy_kwh"] == pytest.approx(
        0.01 * 10 * 365
    )


def test_analyze_lifecycle_cli_prints_the_total_excluding_embodied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path}/runs.db"
    with Store.open(db) as s:
        s.add_many([record("text-generation", "a", 0.01, hardware=ORIN)])
    code = main(["analyze", "lifecycle", "--db", db, "--task", "text-generation", "--region", "FRA"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in out + err
    assert "GPU Jetson-AGX-Orin-64GB" in out
    assert "excluding embodied, unknown" in out and "--gpu-embodied-kg" in out


def test_report_markdown_gives_the_total_excluding_embodied(tmp_path: Path) -> None:
    from wattsup.analysis import ReportOptions
    from wattsup.report.build import markdown
    from wattsup.report.data import collect

    with Store.open(str(tmp_path / "orin.db")) as store:
        store.add(record("text-generation", "a", 0.01, hardware=ORIN))
        data = collect(store, ReportOptions(scenario=Scenario(region="FRA")))
    assert data.lifecycle is not None and data.lifecycle.inference_embodied_kg is None
    text = markdown(data)
    assert "Total: unknown kgCO2e (" in text and "kgCO2e excluding embodied, unknown)" in text
    assert "embodied carbon of Jetson-AGX-Orin-64GB is unknown" in text
