"""Export a measurement's power/energy timeline as CSV or JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from wattsup.errors import InvalidInput
from wattsup.meter.measurement import Measurement


def timeline_rows(m: Measurement) -> list[dict[str, float | str]]:
    """One row per point: component, seconds since the window started, cumulative J, mean W since the
    previous point of that component."""
    if m.timeline is None:
        raise InvalidInput(
            "timeline", "this measurement kept no timeline; meter it with Meter(timeline=True)"
        )
    rows: list[dict[str, float | str]] = []
    for comp, pts in m.timeline.items():
        prev: tuple[float, float] | None = None
        for t, e in pts:
            power: float | str = ""
            if prev is not None and t > prev[0]:
                power = (e - prev[1]) / (t - prev[0])
            rows.append({"component": comp, "t_s": t - m.start_s, "energy_j": e, "power_w": power})
            prev = (t, e)
    return rows


def write_timeline(m: Measurement, path: Path) -> None:
    """Write the timeline to ``path``: ``.csv`` or ``.json`` by its suffix."""
    rows = timeline_rows(m)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InvalidInput("--timeline", f"use a .csv or .json file name, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".json":
        path.write_text(json.dumps({"start_s": m.start_s, "duration_s": m.duration_s, "points": rows}))
        return
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["component", "t_s", "energy_j", "power_w"])
        w.writeheader()
        w.writerows(rows)
