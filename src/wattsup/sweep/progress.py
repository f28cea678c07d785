"""A rich progress bar for a whole sweep: runs done, failed and running, elapsed time and ETA; each failure
is printed above the bar as it happens."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from wattsup.records import RunConfig

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from wattsup.sweep.execute import Executor, Outcome, Plan, SweepResult


def describe(config: RunConfig) -> str:
    mode = " (zero-shot)" if config.mode == "zero-shot" else ""
    return (
        f"{config.task}{mode} · {config.model} · {config.dataset} · bs {config.batch_size} · {config.dtype}"
    )


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class RichReporter:
    """Draws the sweep's progress on ``console`` (a plain final line where it is not a terminal)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.done = self.failed = self.running = 0
        self.total = 0
        self._t0 = time.monotonic()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def _counts(self) -> str:
        return f"[green]{self.done} done[/] · [red]{self.failed} failed[/] · {self.running} running"

    def _eta(self) -> str:
        finished = self.done + self.failed
        left = self.total - finished
        if finished and left:
            eta = _clock((time.monotonic() - self._t0) / finished * left)
        else:
            eta = "0:00:00" if not left else "-:--:--"
        return eta

    def begin(self, plan: Plan, executor: Executor, slots: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.total = len(plan.todo)
        self._t0 = time.monotonic()
        if not self.total:
            return
        self._progress = Progress(
            TextColumn("[bold]sweep[/]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            console=self.console,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(
            "sweep", total=self.total, counts=self._counts(), eta=self._eta()
        )

    def _refresh(self, advance: int = 0) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=advance, counts=self._counts(), eta=self._eta())

    def started(self, config: RunConfig) -> None:
        self.running += 1
        self._refresh()

    def finished(self, outcome: Outcome) -> None:
        self.running = max(self.running - 1, 0)
        if outcome.status == "ok":
            self.done += 1
        else:
            self.failed += 1
            self.console.print(f"[red]failed[/] {describe(outcome.config)}: {outcome.error}")
        self._refresh(advance=1)

    def end(self, result: SweepResult) -> None:
        self.running = 0
        self._refresh()
        if self._progress is not None:
            self._progress.stop()
