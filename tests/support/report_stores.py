"""Stores the report tests build reports from: a real SQLite file filled with run records."""

from __future__ import annotations

from pathlib import Path

from tests.support.analysis_records import MIXED, record
from wattsup.analysis import Metric, ReportOptions, Scenario, Selection
from wattsup.results import Store

ORIN = "NVIDIA Jetson AGX Orin Developer Kit"


def filled_store(path: Path) -> Store:
    """Two tasks, task-specific and zero-shot models, phases, output lengths, mixed methods."""
    store = Store.open(str(path))
    recs = []
    for i in range(6):
        recs.append(
            record(
                "text-classification",
                f"org/bert-{i}",
                0.001 * (i + 1),
                n_params=10**8 * (i + 1),
                phases={"load model": 0.4, "query model": 0.6},
                split=MIXED,
            )
        )
        recs.append(
            record(
                "text-classification",
                f"google/flan-t5-{i}",
                0.02 * (i + 1),
                mode="zero-shot",
                n_params=10**9 * (i + 1),
                output_units=1000 * (i + 1),
                phases={"load model": 0.1, "query model": 0.9},
            )
        )
        recs.append(record("text-to-image", f"sd-{i}", 1.0 + i, n_params=10**9, phases={"query model": 1.0}))
    store.add_many(recs)
    return store


FULL_OPTIONS = ReportOptions(
    selection=Selection(),
    metric=Metric(),
    scenario=Scenario(region="FRA", training_kwh=1e4, queries_per_day=1e5, years=2),
    title="Test report",
)


def sparse_store(path: Path) -> Store:
    """One run: most figures have nothing to draw."""
    store = Store.open(str(path))
    store.add(record("t", "m", 1.0))
    return store


SPARSE_OPTIONS = ReportOptions(scenario=Scenario(region="nowhere-land"))


def orin_store(path: Path) -> Store:
    """A run on hardware whose embodied carbon is unknown."""
    store = Store.open(str(path))
    store.add(record("text-generation", "a", 0.01, hardware=ORIN))
    return store


ORIN_OPTIONS = ReportOptions(scenario=Scenario(region="FRA"))

ALL_MODELLED = {"cpu": (0.8, "modeled"), "ram": (0.2, "modeled")}


def modelled_store(path: Path) -> Store:
    """Every figure modelled (a CPU machine without RAPL): the first thing users see."""
    store = Store.open(str(path))
    store.add_many(
        record(
            "text-classification",
            f"org/m-{i}",
            0.001 * (i + 1),
            hardware=None,
            split=ALL_MODELLED,
            mode="zero-shot" if i == 3 else "task-specific",
            n_params=10**8 * (i + 1),
        )
        for i in range(4)
    )
    return store


CASES = {
    "full": (filled_store, FULL_OPTIONS, "test.db"),
    "sparse": (sparse_store, SPARSE_OPTIONS, ""),
    "orin": (orin_store, ORIN_OPTIONS, "orin.db"),
}
"""Golden cases: name → (store builder, report options, location shown)."""
