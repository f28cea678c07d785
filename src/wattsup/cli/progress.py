"""Progress inside runs, on standard error: for ``bench`` one bar for the current stage of the run (load,
warm-up, repetition N of M) with its rate and time left; for ``suite`` the same below a bar of the runs.
Quiet where standard error is not a terminal, and with ``--json``."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, Task, TaskID
    from rich.text import Text


def wanted(as_json: bool) -> bool:
    """Whether to draw progress: not with ``--json``, and only on a terminal."""
    return not as_json and sys.stderr.isatty()


def _rate_column() -> object:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items per second of the task's current stage (``unit`` field), once there is a rate."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            unit = task.fields.get("unit", "")
            if not unit or speed is None:
                return Text("")
            return Text(f"{speed:.3g} {unit}/s")

    return RateColumn()


class RunProgress:
    """``stage`` is the runner's progress callback (stage, done, total). ``runs``: the number of runs of a
    suite (an outer bar), or None for one run."""

    def __init__(
        self,
        enabled: bool,
        *,
        runs: int | None = None,
        unit: str = "inferences",
        console: Console | None = None,
    ) -> None:
        self.enabled = enabled
        self.runs = runs
        self.unit = unit
        self._console = console
        self._progress: Progress | None = None
        self._outer: TaskID | None = None
        self._inner: TaskID | None = None
        self._stage = ""

    def __enter__(self) -> RunProgress:
        if not self.enabled:
            return self
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from wattsup.cli import ui

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _rate_column(),  # type: ignore[arg-type]
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self._console or ui.console(stderr=True),
            transient=True,
        )
        self._progress.__enter__()
        if self.runs is not None:
            self._outer = self._progress.add_task("runs", total=self.runs)
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.__exit__(et, e, tb)
            self._progress = None

    def run_started(self, description: str) -> None:
        if self._progress is not None and self._outer is not None:
            self._progress.update(self._outer, description=description)

    def stage(self, stage: str, done: int, total: int) -> None:
        p = self._progress
        if p is None:
            return
        label = {"load": "loading the model", "warmup": "warm-up"}.get(stage, stage)
        if stage != self._stage or self._inner is None:
            if self._inner is not None:
                p.remove_task(self._inner)
            unit = "" if stage == "load" else self.unit
            self._inner = p.add_task(f"  {label}", total=total, unit=unit)
            self._stage = stage
        p.update(self._inner, completed=done, total=total)

    def run_finished(self) -> None:
        p = self._progress
        if p is None:
            return
        if self._inner is not None:
            p.remove_task(self._inner)
            self._inner, self._stage = None, ""
        if self._outer is not None:
            p.advance(self._outer)
