"""Timeline export of a measurement: rows, CSV and JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from wattsup.errors import InvalidInput
from wattsup.meter import ComponentEnergy, Measurement
from wattsup.meter.export import timeline_rows, write_timeline


def _measurement(timeline: dict[str, list[tuple[float, float]]] | None) -> Measurement:
    return Measurement(
        start_s=100.0,
        duration_s=1.0,
        components=[ComponentEnergy(name="cpu", energy_j=20.0, method="counter", error_bound_j=0.1)],
        timeline=timeline,
    )


def test_rows_carry_mean_power_between_points() -> None:
    rows = timeline_rows(_measurement({"cpu": [(100.0, 0.0), (100.5, 10.0), (100.5, 10.0), (101.0, 20.0)]}))
    assert [r["t_s"] for r in rows] == [0.0, 0.5, 0.5, 1.0]
    assert [r["power_w"] for r in rows] == ["", pytest.approx(20.0), "", pytest.approx(20.0)]
    assert {r["component"] for r in rows} == {"cpu"}


def test_csv_and_json(tmp_path: Path) -> None:
    m = _measurement({"cpu": [(100.0, 0.0), (101.0, 20.0)], "ram": [(100.2, 0.0), (100.7, 2.5)]})
    write_timeline(m, tmp_path / "out" / "t.csv")
    with (tmp_path / "out" / "t.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["component"], float(r["energy_j"])) for r in rows] == [
        ("cpu", 0.0),
        ("cpu", 20.0),
        ("ram", 0.0),
        ("ram", 2.5),
    ]
    write_timeline(m, tmp_path / "t.JSON")
    doc = json.loads((tmp_path / "t.JSON").read_text())
    assert doc["start_s"] == 100.0 and len(doc["points"]) == 4


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="Meter\\(timeline=True\\)"):
        timeline_rows(_measurement(None))
    with pytest.raises(InvalidInput, match="--timeline"):
        write_timeline(_measurement({"cpu": []}), tmp_path / "t.parquet")
