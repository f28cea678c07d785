"""What both importers share: how to read (:class:`ImportOptions`, each field a flag of ``wattsup import``),
what an import did (:class:`ImportReport`), the error bounds of other tools' figures by method, and the
CSV files a path names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic.dataclasses import dataclass as pydantic_dataclass

from wattsup.errors import InvalidInput
from wattsup.meter.measurement import ComponentEnergy, Method
from wattsup.params import checked, param

MODELED_RELATIVE_BOUND = 0.5
"""Error bound of CodeCarbon's CPU and RAM estimates, as a fraction of the figure (the bound wattsup's own
models carry: a plausible span, not a calibrated one)."""

SAMPLED_RELATIVE_BOUND = 0.2
"""Error bound of CodeCarbon's GPU figure from NVML power readings polled every ``measure_power_secs``
(15 s by default in 2.x): power × time over polls as long as the window itself. A plausible span, not a
calibrated one; REFERENCE.md §3 measured CodeCarbon's error at 4% (1 s windows, 1 s polling) to 25%
(0.1 s windows)."""

COUNTER_RELATIVE_BOUND = 0.05
"""Bound of a counter read by CodeCarbon at a task's edges: the counter steps every ~100 ms, and
REFERENCE.md §3 measured CodeCarbon's task-mode windows at 1.2% (3 s) to 4.2% (1 s) median error; the
study's windows are 5–60 s long. A plausible span, not a calibrated one."""

BOUNDS: dict[str, float] = {
    "modeled": MODELED_RELATIVE_BOUND,
    "sampled": SAMPLED_RELATIVE_BOUND,
    "counter": COUNTER_RELATIVE_BOUND,
}


@checked
@pydantic_dataclass(frozen=True)
class ImportOptions:
    """How to read logs, each field declared once with its ``wattsup import`` flag; a bad value raises
    :class:`InvalidInput` naming the flag when the options are made."""

    task: str | None = param(None, "The task of every run (default: from the file names).")
    dataset: str | None = param(
        None, "The dataset of every run (default: from the file names).", metavar="NAME"
    )
    model: str | None = param(None, "The model of every run (default: project_name / the report's model).")
    inferences: int = param(1000, "Inferences in each run's window (default: the protocol's 1,000).", ge=1)
    device: str | None = param(
        None, "What ran the inferences: cuda:0, cpu, ... Default: cuda:0 when the log shows a GPU, else cpu."
    )
    gpu_method: Method = param(
        "counter",
        "How the GPU energy was obtained: counter (the default for CodeCarbon logs, whose 2.x and 3.x "
        "read NVML's total-energy counter), sampled (NVML power readings, for GPUs without the counter) "
        "or modeled.",
    )
    cpu_method: Method = param(
        "modeled", "How the CPU energy was obtained: modeled (CodeCarbon's TDP estimate) or counter (RAPL)."
    )
    params: Mapping[str, int] | None = param(
        None, "Model → parameter count (the CLI reads a model_name,num_parameters CSV: --params).", cli=False
    )
    lengths: Mapping[tuple[str, str], float] | None = param(
        None, "(model, dataset) → mean output tokens per inference, if already read.", cli=False
    )
    lengths_paths: tuple[str | Path, ...] = param(
        (),
        "Output-length CSVs (Input, Output, model; the study's lengths/).",
        flag="--lengths",
        metavar="PATH",
    )


@dataclass
class ImportReport:
    """What an import did: files and rows read, runs built and stored, runs skipped and why."""

    files: int = 0
    rows: int = 0
    runs: int = 0
    added: int = 0
    merged: int = 0
    """Runs already stored that this import completed (their plain row or task rows came later)."""
    unchanged: int = 0
    """Runs already stored exactly as these files give them: nothing to add."""
    skipped: dict[str, int] = field(default_factory=dict)
    """reason → number of runs (or files) skipped for it."""
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_options(options: ImportOptions) -> None:
    """What the options' declarations cannot check: a named task is known, a task or dataset not blank."""
    if options.task is not None:
        if not options.task.strip():
            raise InvalidInput("--task", "is empty")
        resolve_task(options.task)
    if options.dataset is not None and not options.dataset.strip():
        raise InvalidInput("--dataset", "is empty")


def resolve_task(task: str) -> str:
    from wattsup.records.tasks import get_task_info

    return get_task_info(task).name


def csv_files(paths: Iterable[str | Path], *, flag: str = "PATH") -> list[Path]:
    """The CSV files named: files as given, directories expanded to their ``*.csv`` (sorted, not
    recursive). Missing paths raise :class:`InvalidInput` naming ``flag``."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.suffix.lower() == ".csv" and q.is_file())
            if not found:
                raise InvalidInput(flag, f"{p} holds no .csv file")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise InvalidInput(flag, f"{p} does not exist")
    if not out:
        raise InvalidInput(flag, "give at least one CSV file or directory")
    return list(dict.fromkeys(out))


def imported_component(name: str, energy_j: float, options: ImportOptions, detail: str) -> ComponentEnergy:
    """A component another tool measured: the method the options give it (``--gpu-method`` for ``gpu``,
    ``--cpu-method`` for ``cpu``, else ``modeled``) and that method's error bound."""
    method = options.gpu_method if name == "gpu" else options.cpu_method if name == "cpu" else "modeled"
    return ComponentEnergy(
        name=name, energy_j=energy_j, method=method, error_bound_j=BOUNDS[method] * energy_j, detail=detail
    )
