"""Benchmarks of inference energy, the Power Hungry Processing way and better: a task × a model × inputs ×
a protocol (n inferences at batch size 1, warm-up, repetitions), each run in a subprocess of its own.

    from wattsup.bench import make_config, run, record_json
    record = run(make_config("text-classification", "tiny/bert-classifier", weights="random", n=10))
    print(record_json(record)["energy_kwh_per_1k"])

Nothing here imports torch until a run starts.
"""

from __future__ import annotations

from wattsup.bench.api import make_config, record_json, run, validate
from wattsup.bench.catalog import Catalog, CatalogEntry, load_catalog
from wattsup.bench.suites import SUITES, suite_configs
from wattsup.bench.tasks import TASKS, get_task_info

__all__ = [
    "SUITES",
    "TASKS",
    "Catalog",
    "CatalogEntry",
    "get_task_info",
    "load_catalog",
    "make_config",
    "record_json",
    "run",
    "suite_configs",
    "validate",
]
