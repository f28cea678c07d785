"""The task families, one module each. Importing this package imports no heavy library; what is known of
each task without its implementation (:class:`TaskInfo`) is :mod:`wattsup.records.tasks`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from wattsup.errors import InvalidInput
from wattsup.records.tasks import TASKS, ZERO_SHOT_TASKS, TaskInfo, get_task_info, task_names

if TYPE_CHECKING:
    from wattsup.bench.tasks.base import Task


def task_class(name: str, mode: str = "task-specific") -> type[Task]:
    """The Task class for ``name`` (imports the task's module, and with it torch)."""
    info = get_task_info(name)
    if mode == "zero-shot":
        if info.name not in ZERO_SHOT_TASKS:
            raise InvalidInput("mode", f"zero-shot mode covers {', '.join(ZERO_SHOT_TASKS)}, not {info.name}")
        from wattsup.bench.tasks.zero_shot import zero_shot_task

        return zero_shot_task(info.name)
    module = importlib.import_module(f"wattsup.bench.tasks.{info.module}")
    cls: type[Task] = getattr(module, info.cls)
    return cls


__all__ = ["TASKS", "ZERO_SHOT_TASKS", "TaskInfo", "get_task_info", "task_class", "task_names"]
