"""Import CodeCarbon CSV logs as runs.

Two shapes of log are read, told apart by their header:

- *plain* (``emissions.csv``): one row per tracked window; the row is the run's whole repetition window.
- *task mode* (a leading ``task_name`` column): one row per task (``load model``, ``query model``, ...);
  these rows become the phases of the run's window, in file order.

Rows of any files that share a ``run_id`` are one run with one repetition of ``--inferences`` (default
1,000, the Power Hungry Processing protocol) inferences. When a run has task-mode rows but no plain row,
its window is the sum of its phases. Several plain rows of one run (a log written in append mode) keep
the last one, with a warning.

Energy columns become components: ``gpu_energy`` → ``gpu`` (CodeCarbon 2.x and 3.x read NVML's
total-energy counter, ``nvmlDeviceGetTotalEnergyConsumption``, on Volta and newer: method ``counter``;
``--gpu-method sampled`` for logs from GPUs without it), ``cpu_energy`` → ``cpu`` and ``ram_energy`` →
``ram`` (CodeCarbon's estimates: a TDP model or constant, and watts per GB of RAM: method ``modeled``).
An empty column is an unknown component (left out, never a zero). Methods can be overridden
(``--gpu-method``, ``--cpu-method``), e.g. when RAPL was readable.

Task and dataset come from ``--task``/``--dataset``, else from the name of the run's plain log when it
follows the Power Hungry Processing naming (:mod:`wattsup.results.importers.study`). A run whose task or
dataset cannot be told is skipped, and the report says how many and why.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from wattsup.errors import InvalidInput, finite_number
from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement, Method
from wattsup.results.importers.study import STUDY, lengths_dataset, parse_name
from wattsup.results.schema import Provenance, Repetition, RunConfig, RunRecord
from wattsup.results.store import Store

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

_BOUNDS: dict[str, float] = {
    "modeled": MODELED_RELATIVE_BOUND,
    "sampled": SAMPLED_RELATIVE_BOUND,
    "counter": COUNTER_RELATIVE_BOUND,
}
_COMPONENTS = (
    ("gpu", "gpu_energy", "gpu_power"),
    ("cpu", "cpu_energy", "cpu_power"),
    ("ram", "ram_energy", "ram_power"),
)
_REQUIRED = ("run_id",)
_GPU_MODEL = re.compile(r"^\s*(\d+)\s*x\s*(.+?)\s*$")


@dataclass(frozen=True)
class ImportOptions:
    """How to read logs. Each field names its ``wattsup import codecarbon`` flag."""

    task: str | None = None
    """--task: the task of every imported run (else from the file name)."""
    dataset: str | None = None
    """--dataset: the dataset of every imported run (else from the file name)."""
    model: str | None = None
    """--model: the model (else CodeCarbon's ``project_name``)."""
    inferences: int = 1000
    """--inferences: inferences in each run's window (the protocol's 1,000)."""
    device: str = "cuda:0"
    """--device: what ran the inferences (``cpu`` for CPU-only runs)."""
    gpu_method: Method = "counter"
    """--gpu-method: how CodeCarbon obtained the GPU figure."""
    cpu_method: Method = "modeled"
    """--cpu-method: how CodeCarbon obtained the CPU figure (``counter`` if RAPL was readable)."""
    params: Mapping[str, int] | None = None
    """--params: model → parameter count (a ``model_name,num_parameters`` CSV)."""
    lengths: Mapping[tuple[str, str], float] | None = None
    """(model, dataset) → mean output tokens per inference, if already read."""
    lengths_paths: Sequence[str | Path] = ()
    """--lengths: the study's lengths CSVs (or directories), read with :func:`read_lengths`."""


@dataclass
class ImportReport:
    """What an import did: files and rows read, runs built and stored, runs skipped and why."""

    files: int = 0
    rows: int = 0
    runs: int = 0
    added: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    """reason → number of runs (or files) skipped for it."""
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "rows": self.rows,
            "runs": self.runs,
            "added": self.added,
            "skipped": dict(self.skipped),
            "warnings": list(self.warnings),
        }


@dataclass
class _Row:
    file: Path
    line: int
    task_name: str | None
    data: dict[str, str]


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


def _read(path: Path, report: ImportReport) -> list[_Row]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            if "run_id" not in header or not any(e in header for _, e, _ in _COMPONENTS):
                report.warnings.append(
                    f"{path}: not a CodeCarbon log (no run_id or *_energy columns); skipped"
                )
                report.skip("not a CodeCarbon log (file)")
                return []
            task_mode = "task_name" in header
            rows = []
            for i, rec in enumerate(reader, start=2):
                data = {k: (v or "").strip() for k, v in rec.items() if k is not None}
                rows.append(_Row(path, i, data.get("task_name") if task_mode else None, data))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InvalidInput("PATH", f"{path}: cannot read it as CSV ({err})") from None


def _float(row: _Row, key: str) -> float | None:
    raw = row.data.get(key, "")
    if raw == "" or raw.lower() in ("nan", "none", "null"):
        return None
    try:
        v = float(raw)
    except ValueError:
        raise InvalidInput("PATH", f"{row.file}:{row.line}: column {key} is not a number: {raw!r}") from None
    if math.isnan(v) or math.isinf(v):
        return None
    return v


def _components(row: _Row, options: ImportOptions, version: str) -> list[ComponentEnergy]:
    out = []
    for name, energy_col, power_col in _COMPONENTS:
        kwh = _float(row, energy_col)
        if kwh is None:
            continue
        if kwh < 0:
            raise InvalidInput("PATH", f"{row.file}:{row.line}: {energy_col} is negative ({kwh})")
        method: Method = (
            options.gpu_method if name == "gpu" else options.cpu_method if name == "cpu" else "modeled"
        )
        power = _float(row, power_col)
        detail = f"CodeCarbon {version or '(version unknown)'} {energy_col}"
        if power is not None:
            detail += f", mean {power:.4g} W"
        if name == "gpu":
            detail += f"; {row.data.get('gpu_model') or 'GPUs not named'}"
        joules = kwh * JOULES_PER_KWH
        out.append(
            ComponentEnergy(
                name=name,
                energy_j=joules,
                method=method,
                error_bound_j=_BOUNDS[method] * joules,
                detail=detail,
            )
        )
    return out


def _timestamp(row: _Row) -> datetime | None:
    raw = row.data.get("timestamp", "")
    if not raw:
        return None
    try:
        ts = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _measurement(row: _Row, name: str, start_s: float, options: ImportOptions) -> Measurement:
    version = row.data.get("codecarbon_version", "")
    return Measurement(
        name=name,
        start_s=start_s,
        duration_s=max(_float(row, "duration") or 0.0, 0.0),
        components=_components(row, options, version),
    )


def _sum_window(phases: list[Measurement]) -> Measurement:
    totals: dict[str, tuple[float, float, Method, str]] = {}
    for p in phases:
        for c in p.components:
            e, b, _, _ = totals.get(c.name, (0.0, 0.0, c.method, ""))
            totals[c.name] = (e + c.energy_j, b + c.error_bound_j, c.method, c.detail)
    comps = [
        ComponentEnergy(name=n, energy_j=e, method=m, error_bound_j=b, detail=d + " (sum of task-mode rows)")
        for n, (e, b, m, d) in totals.items()
    ]
    return Measurement(
        start_s=0.0,
        duration_s=sum(p.duration_s for p in phases),
        components=comps,
        phases=phases,
        warnings=["no plain CodeCarbon row for this run: the window is the sum of its task-mode rows"],
    )


def _provenance(row: _Row, sources: list[Path]) -> Provenance:
    d = row.data
    gpus: list[str] = []
    gm = d.get("gpu_model", "")
    if gm:
        m = _GPU_MODEL.match(gm)
        gpus = [m.group(2)] * int(m.group(1)) if m else [g.strip() for g in gm.split(",") if g.strip()]
    cpu_count = d.get("cpu_count", "")
    ram = _float(row, "ram_total_size")
    version = d.get("codecarbon_version", "")
    files = ", ".join(str(s) for s in sources)
    sensors = {
        "gpu": f"CodeCarbon {version}: NVML readings of {gm or 'the GPUs'} (all GPUs CodeCarbon tracked)",
        "cpu": f"CodeCarbon {version}: cpu_power {d.get('cpu_power', '?')} W (its TDP model or constant)",
        "ram": f"CodeCarbon {version}: ram_power {d.get('ram_power', '?')} W (watts per GB of RAM)",
        "source": f"imported from CodeCarbon log {files}",
    }
    where = ", ".join(x for x in (d.get("region", ""), d.get("country_name", "")) if x)
    if d.get("cloud_provider"):
        where += f" ({d['cloud_provider']} {d.get('cloud_region', '')})".rstrip()
    if where:
        sensors["location"] = where
    return Provenance(
        os=d.get("os", ""),
        python=d.get("python_version", ""),
        cpu_model=d.get("cpu_model", ""),
        cpu_count=int(cpu_count) if cpu_count.isdigit() else None,
        ram_gb=ram,
        gpus=gpus,
        libraries={"codecarbon": version} if version else {},
        sensors=sensors,
        weights_source=f"hub: {d.get('project_name', '')}" if d.get("project_name") else "",
        input_source=f"imported from CodeCarbon log {files}",
    )


def _resolve_task(task: str) -> str:
    from wattsup.bench.tasks import get_task_info

    return get_task_info(task).name


def build_records(rows: Sequence[_Row], options: ImportOptions, report: ImportReport) -> list[RunRecord]:
    """Group rows by ``run_id`` into run records (see the module docs)."""
    task_override = _resolve_task(options.task) if options.task else None
    by_run: dict[str, list[_Row]] = {}
    for row in rows:
        rid = row.data.get("run_id", "")
        if not rid:
            report.skip("row without a run_id")
            continue
        by_run.setdefault(rid, []).append(row)
    records = []
    for rid, group in by_run.items():
        plain = [r for r in group if r.task_name is None]
        tasks = [r for r in group if r.task_name is not None]
        if len(plain) > 1:
            distinct = {(r.data.get("energy_consumed"), r.data.get("duration")) for r in plain}
            if len(distinct) > 1:
                report.warnings.append(
                    f"run {rid}: {len(plain)} plain rows ({plain[0].file.name}...); kept the last one"
                )
        main = plain[-1] if plain else None
        named = parse_name(main.file.stem) if main is not None else None
        task = task_override or (named.task if named else None)
        dataset = options.dataset or (named.dataset if named else None)
        if task is None:
            report.skip("task unknown (no plain log with a study file name shares its run_id; give --task)")
            continue
        if dataset is None:
            report.skip("dataset unknown (give --dataset)")
            continue
        first = main or tasks[0]
        model = options.model or first.data.get("project_name", "")
        if not model:
            report.skip("model unknown (no project_name; give --model)")
            continue
        phases = []
        offset = 0.0
        for t in tasks:
            assert t.task_name is not None
            p = _measurement(t, t.task_name, offset, options)
            phases.append(p)
            offset += p.duration_s
        if main is not None:
            window = _measurement(main, "window", 0.0, options).model_copy(update={"phases": phases})
        else:
            window = _sum_window(phases)
        if not window.components:
            report.skip("no energy column filled in")
            continue
        units = None
        if options.lengths is not None:
            per = options.lengths.get((model, dataset.removesuffix("_native")))
            if per is not None:
                units = round(per * options.inferences)
        stamps = [s for s in (_timestamp(r) for r in group) if s is not None]
        finished = max(stamps) if stamps else None
        started = (finished.timestamp() - window.duration_s) if finished else None
        mode = named.mode if named and not options.task else "task-specific"
        extra: dict[str, Any] = {"source": f"CodeCarbon log, {STUDY}" if named else "CodeCarbon log"}
        if named and named.images:
            extra["images"] = named.images
        config = RunConfig(
            task=task,
            model=model,
            dataset=dataset,
            n=options.inferences,
            batch_size=1,
            warmup=0,
            reps=1,
            dtype="unknown",
            device=options.device,
            max_new_tokens=named.max_new_tokens if named else None,
            mode=mode,  # type: ignore[arg-type]
            extra=extra,
        )
        sources = sorted({r.file for r in group}, key=str)
        record = RunRecord(
            run_id=rid,
            config=config,
            started_at=datetime.fromtimestamp(started, UTC) if started is not None else datetime.now(UTC),
            finished_at=finished,
            repetitions=[
                Repetition(index=0, measurement=window, inferences=options.inferences, output_units=units)
            ],
            provenance=_provenance(first, sources),
            n_params=(options.params or {}).get(model),
        )
        records.append(record)
    report.runs += len(records)
    return records


def read_codecarbon(
    paths: Iterable[str | Path], options: ImportOptions | None = None
) -> tuple[list[RunRecord], ImportReport]:
    """Read CodeCarbon logs (files, or directories of ``*.csv``) into run records, without storing them."""
    opts = options or ImportOptions()
    check_options(opts)
    report = ImportReport()
    rows: list[_Row] = []
    for path in csv_files(paths):
        report.files += 1
        got = _read(path, report)
        report.rows += len(got)
        rows.extend(got)
    if opts.lengths is None and opts.lengths_paths:
        models = {r.data.get("project_name", "") for r in rows} - {""}
        lengths = read_lengths(opts.lengths_paths, models, warnings=report.warnings)
        opts = dataclasses.replace(opts, lengths=lengths)
    return build_records(rows, opts, report), report


def import_codecarbon(
    store: Store, paths: Iterable[str | Path], options: ImportOptions | None = None
) -> ImportReport:
    """Read CodeCarbon logs and store their runs (idempotent: runs already stored are left as they are)."""
    records, report = read_codecarbon(paths, options)
    report.added = store.add_many(records) if records else 0
    return report


def check_options(options: ImportOptions) -> None:
    if options.inferences < 1:
        raise InvalidInput("--inferences", f"must be at least 1, got {options.inferences}")
    for flag, value in (("--gpu-method", options.gpu_method), ("--cpu-method", options.cpu_method)):
        if value not in _BOUNDS:
            raise InvalidInput(flag, f"must be one of counter, sampled, modeled, got {value!r}")
    if options.task is not None:
        if not options.task.strip():
            raise InvalidInput("--task", "is empty")
        _resolve_task(options.task)
    if options.dataset is not None and not options.dataset.strip():
        raise InvalidInput("--dataset", "is empty")


def read_params(path: str | Path) -> dict[str, int]:
    """``model_name,num_parameters`` CSV (the study's ``model_parameters.csv``) → model → count."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InvalidInput("--params", f"{p} does not exist")
    out: dict[str, int] = {}
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        name_col = next((c for c in cols if c.lower() in ("model_name", "model", "name")), None)
        num_col = next((c for c in cols if c.lower() in ("num_parameters", "n_params", "parameters")), None)
        if name_col is None or num_col is None:
            raise InvalidInput("--params", f"{p}: needs columns model_name and num_parameters, has {cols}")
        for i, rec in enumerate(reader, start=2):
            name = (rec.get(name_col) or "").strip()
            raw = (rec.get(num_col) or "").strip()
            if not name or not raw:
                continue
            try:
                n = finite_number("--params", float(raw), minimum=0)
            except ValueError:
                raise InvalidInput("--params", f"{p}:{i}: {raw!r} is not a parameter count") from None
            out[name] = int(n)
    return out


LengthKey = tuple[str, str]


def read_lengths(
    paths: Iterable[str | Path], models: Iterable[str] = (), *, warnings: list[str] | None = None
) -> dict[LengthKey, float]:
    """The study's output lengths (``Input, Output, model, dataset`` per sample; the dataset from the file
    name) → (model, dataset) → mean output tokens per inference. A model name that is a unique prefix of
    one in ``models`` is mapped to it (the study's files say ``bloomz-1b`` for ``bloomz-1b7``)."""
    known = sorted(set(models))
    sums: dict[LengthKey, list[float]] = {}
    for path in csv_files(paths, flag="--lengths"):
        dataset = lengths_dataset(path.stem)
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = reader.fieldnames or []
            if "Output" not in cols or "model" not in cols:
                raise InvalidInput("--lengths", f"{path}: needs columns Output and model, has {cols}")
            for rec in reader:
                ds = dataset or (rec.get("dataset") or "").strip()
                try:
                    out = float(rec["Output"])
                except (TypeError, ValueError):
                    continue
                acc = sums.setdefault(((rec.get("model") or "").strip(), ds), [0.0, 0.0])
                acc[0] += out
                acc[1] += 1
    result: dict[LengthKey, float] = {}
    for (model, ds), (total, n) in sums.items():
        name = model
        if known and model not in known:
            candidates = [k for k in known if k.startswith(model)]
            if len(candidates) == 1:
                name = candidates[0]
                note = f"lengths: model {model!r} taken as {name!r} (a unique prefix of it)"
                if warnings is not None and note not in warnings:
                    warnings.append(note)
        result[(name, ds)] = total / n
    return result


Shape = Literal["plain", "task"]


def shape_of(path: str | Path) -> Shape | None:
    """``"task"`` for a task-mode log, ``"plain"`` for a plain one, ``None`` if it is not CodeCarbon's."""
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), [])
    if "run_id" not in header:
        return None
    return "task" if "task_name" in header else "plain"
