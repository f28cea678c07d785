"""What a benchmark run is, below both the harness that makes records and the store that keeps them.

:mod:`wattsup.records.run` is the record (:class:`RunConfig`, :class:`RunRecord`, ...),
:mod:`wattsup.records.settings` the per-task settings, typed by task family, and
:mod:`wattsup.records.tasks` what is known of each task without importing its implementation.
Nothing here imports torch, SQLAlchemy, or any layer above :mod:`wattsup.meter`.
"""

from __future__ import annotations

from wattsup.records.run import (
    Provenance,
    Repetition,
    ReportedCarbon,
    RunConfig,
    RunRecord,
    RunStatus,
    WeightsSource,
    checked_config,
)
from wattsup.records.settings import (
    DiffusionSettings,
    EncoderSettings,
    GenerativeSettings,
    ImportedSettings,
    TaskSettings,
)
from wattsup.records.tasks import TASKS, TaskInfo, find_task, get_task_info

__all__ = [
    "TASKS",
    "DiffusionSettings",
    "EncoderSettings",
    "GenerativeSettings",
    "ImportedSettings",
    "Provenance",
    "Repetition",
    "ReportedCarbon",
    "RunConfig",
    "RunRecord",
    "RunStatus",
    "TaskInfo",
    "TaskSettings",
    "WeightsSource",
    "checked_config",
    "find_task",
    "get_task_info",
]
