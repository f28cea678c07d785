"""Import CodeCarbon CSV logs as runs.

Two shapes of log are read, told apart by their header:

- *plain* (``emissions.csv``): one row per tracked window; the row is the run's whole repetition window.
- *task mode* (a leading ``task_name`` column): one row per task (``load model``, ``query model``, ...);
  these rows become the phases of the run's window, in file order.

Rows of any files that share a ``run_id`` are one run with one repetition of ``--inferences`` (default
1,000, the Power Hungry Processing protocol) inferences. When a run has task-mode rows but no plain row,
its window is the sum of its phases. Several plain rows of one run (a log written in append mode) keep
the last one, with a warning. A run already in the store is merged with the rows of a later import
(its task rows gain their plain row, or the other way round), so the files of one run may come in any
order and in several calls; rows that disagree with the stored run are a warning, never a silent drop.

The 2021 format (``experiment_id`` instead of ``run_id``, and only ``energy_consumed``) is read too: its
run is the experiment, its energy one ``total`` component (the log gives no split). A row without any id
(CodeCarbon's own example files have some) is a run of its own, its id a hash of the row, so importing it
again adds nothing. CodeCarbon's own ``emissions`` (kg CO2e) and the place it charged them to (country,
region, cloud) are kept beside wattsup's figures (``RunRecord.reported``).

Energy columns become components: ``gpu_energy`` → ``gpu`` (CodeCarbon 2.x and 3.x read NVML's
total-energy counter, ``nvmlDeviceGetTotalEnergyConsumption``, on Volta and newer: method ``counter``;
``--gpu-method sampled`` for logs from GPUs without it), ``cpu_energy`` → ``cpu`` and ``ram_energy`` →
``ram`` (CodeCarbon's estimates: a TDP model or constant, and watts per GB of RAM: method ``modeled``).
An empty column is an unknown component (left out, never a zero). A run on a machine without a GPU
(``gpu_count`` 0 or empty, no GPU named, ``gpu_energy`` 0 or empty) has no GPU component and runs on
``cpu``. Energies that are not finite (``nan``, ``inf``, ``1e309``), or all zero, make the run unusable:
it is skipped with the file, line and column in a warning, never stored as ``ok``. A zero GPU figure of a
run that had GPUs is kept but flagged in the window's warnings. Methods can be overridden
(``--gpu-method``, ``--cpu-method``), e.g. when RAPL was readable.

A row cut short (fewer fields than the header: a log whose writer was killed) is skipped and counted;
a timestamp or a number that does not parse is an error naming the file, line and column.

Task and dataset come from ``--task``/``--dataset``, else from the name of the run's plain log when it
follows the Power Hungry Processing naming (:mod:`wattsup.results.importers.study`). A run whose task or
dataset cannot be told is skipped, and the report says how many and why.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from wattsup.errors import InvalidInput, finite_number
from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement, Method
from wattsup.records import Provenance, Repetition, ReportedCarbon, RunConfig, RunRecord
from wattsup.records.settings import AnySettings, ImportedSettings
from wattsup.results.importers.study import STUDY, lengths_dataset, parse_name
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
_ID_COLUMNS = ("run_id", "experiment_id")
"""The column naming a run: ``run_id`` since CodeCarbon 2.0, ``experiment_id`` in the 2021 format."""
TOTAL_COLUMN = "energy_consumed"
SUM_WARNING = "no plain CodeCarbon row for this run: the window is the sum of its task-mode rows"
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
    device: str | None = None
    """--device: what ran the inferences (default: ``cuda:0`` when the log shows a GPU, else ``cpu``)."""
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
        return {
            "files": self.files,
            "rows": self.rows,
            "runs": self.runs,
            "added": self.added,
            "merged": self.merged,
            "unchanged": self.unchanged,
            "skipped": dict(self.skipped),
            "warnings": list(self.warnings),
        }


@dataclass
class _Row:
    file: Path
    line: int
    task_name: str | None
    data: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


class _BadRun(Exception):
    """A row whose figures make its run unusable (not finite, all zero); the message says where."""


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
            id_col = next((c for c in _ID_COLUMNS if c in header), None)
            energy = [e for _, e, _ in _COMPONENTS if e in header] or (
                [TOTAL_COLUMN] if TOTAL_COLUMN in header else []
            )
            if id_col is None or not energy:
                report.warnings.append(
                    f"{path}: not a CodeCarbon log (no run_id or experiment_id column, or no *_energy or "
                    "energy_consumed column); skipped"
                )
                report.skip("not a CodeCarbon log (file)")
                return []
            task_mode = "task_name" in header
            rows = []
            for rec in reader:
                line = reader.line_num
                extra: list[str] = list(rec.pop(None, None) or [])
                if extra or any(v is None for v in rec.values()):
                    got = sum(v is not None for v in rec.values()) + len(extra)
                    report.skip("row cut short or too long (fields do not match the header)")
                    report.warnings.append(
                        f"{path}:{line}: {got} fields for a header of {len(header)}; row skipped "
                        "(a log cut short, or rows run together, while it was written?)"
                    )
                    continue
                data = {k: (v or "").strip() for k, v in rec.items() if k is not None}
                if id_col != "run_id":
                    data["run_id"] = data.get(id_col, "")
                rows.append(_Row(path, line, data.get("task_name") if task_mode else None, data))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InvalidInput("PATH", f"{path}: cannot read it as CSV ({err})") from None


def _float(row: _Row, key: str, *, finite: bool = False) -> float | None:
    """The number in column ``key``; ``None`` when empty. A value that is not finite is ``None`` too,
    unless ``finite``: then the run is unusable (:class:`_BadRun`)."""
    raw = row.data.get(key, "")
    if raw == "" or raw.lower() in ("none", "null"):
        return None
    try:
        v = float(raw)
    except ValueError:
        raise InvalidInput("PATH", f"{row.where}: column {key} is not a number: {raw!r}") from None
    if math.isnan(v) or math.isinf(v):
        if finite:
            raise _BadRun(f"{row.where}: {key} is {raw!r}, not a finite number")
        return None
    return v


def _has_gpu(row: _Row) -> bool:
    """Whether CodeCarbon saw a GPU: a GPU count above 0, a GPU named, or GPU energy above 0."""
    count = row.data.get("gpu_count", "")
    try:
        if count and float(count) > 0:
            return True
    except ValueError:
        pass
    return bool(row.data.get("gpu_model")) or bool(_float(row, "gpu_energy"))


def _components(row: _Row, options: ImportOptions, version: str) -> tuple[list[ComponentEnergy], list[str]]:
    """The row's components, and warnings that go with the figures (a GPU that used no energy)."""
    out = []
    notes: list[str] = []
    present = [(n, e, p) for n, e, p in _COMPONENTS if e in row.data]
    if not present and TOTAL_COLUMN in row.data:  # the 2021 format: one total, no split
        present = [("total", TOTAL_COLUMN, "")]
    gpu = _has_gpu(row)
    for name, energy_col, power_col in present:
        kwh = _float(row, energy_col, finite=True)
        if kwh is None:
            continue
        if kwh < 0:
            raise InvalidInput("PATH", f"{row.where}: {energy_col} is negative ({kwh})")
        if name == "gpu" and not gpu:
            continue  # a CPU-only machine: CodeCarbon writes 0 for the GPU it did not have
        if name == "gpu" and kwh == 0:
            notes.append(
                f"{row.where}: gpu_energy is 0 for {row.data.get('gpu_model') or 'the GPUs'} "
                "(CodeCarbon read no energy from them)"
            )
        method: Method = (
            options.gpu_method if name == "gpu" else options.cpu_method if name == "cpu" else "modeled"
        )
        power = _float(row, power_col) if power_col else None
        detail = f"CodeCarbon {version or '(version unknown)'} {energy_col}"
        if name == "total":
            detail += " (this log format gives no split by component)"
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
    if out and all(c.energy_j == 0 for c in out):
        cols = ", ".join(e for n, e, _ in present if n != "gpu" or gpu)
        raise _BadRun(f"{row.where}: every energy ({cols}) is 0; CodeCarbon measured nothing")
    return out, notes


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S.%f")
"""Beyond ISO 8601: what a spreadsheet makes of CodeCarbon's timestamps (``2023-10-06 0:05:27``, as in a
file of the Power Hungry Processing study)."""


def _timestamp(row: _Row) -> datetime | None:
    raw = row.data.get("timestamp", "")
    if not raw:
        return None
    try:
        ts = datetime.fromisoformat(raw)
    except ValueError:
        for fmt in _TIME_FORMATS:
            try:
                ts = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
        else:
            raise InvalidInput(
                "PATH",
                f"{row.where}: timestamp {raw!r} is not a date (2024-01-31T12:00:00); fix or empty it",
            ) from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _measurement(row: _Row, name: str, start_s: float, options: ImportOptions) -> Measurement:
    version = row.data.get("codecarbon_version", "")
    components, notes = _components(row, options, version)
    return Measurement(
        name=name,
        start_s=start_s,
        duration_s=max(_float(row, "duration") or 0.0, 0.0),
        components=components,
        warnings=notes,
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
        warnings=[SUM_WARNING],
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
    from wattsup.records.tasks import get_task_info

    return get_task_info(task).name


def _row_id(row: _Row) -> str:
    """The id of a row that has none: a hash of its values, so importing it again adds nothing."""
    blob = "\x1f".join(f"{k}={v}" for k, v in sorted(row.data.items()))
    return "cc-" + hashlib.sha256(blob.encode()).hexdigest()[:32]


def _reported(rows: Sequence[_Row], main: _Row | None) -> ReportedCarbon | None:
    """CodeCarbon's own emissions and place: the plain row's, else the sum over the task rows."""
    source = [main] if main is not None else list(rows)
    first = source[0]
    d = first.data
    if "emissions" not in d and "country_iso_code" not in d:
        return None
    emissions = [_float(r, "emissions") for r in source]
    energy = [_float(r, TOTAL_COLUMN) for r in source]
    version = d.get("codecarbon_version", "")
    return ReportedCarbon(
        tool=f"CodeCarbon {version}".strip(),
        emissions_kg=sum(e for e in emissions if e is not None)
        if any(e is not None for e in emissions)
        else None,
        energy_kwh=sum(e for e in energy if e is not None) if any(e is not None for e in energy) else None,
        country_iso_code=d.get("country_iso_code") or None,
        country_name=d.get("country_name") or None,
        region=d.get("region") or None,
        cloud_provider=d.get("cloud_provider") or None,
        cloud_region=d.get("cloud_region") or None,
        pue=_float(first, "pue"),
    )


def build_records(
    rows: Sequence[_Row],
    options: ImportOptions,
    report: ImportReport,
    stored: Mapping[str, RunRecord] | None = None,
) -> list[RunRecord]:
    """Group rows by ``run_id`` into run records (see the module docs). ``stored``: runs already in the
    store by id, whose configuration a run given only by task rows takes."""
    task_override = _resolve_task(options.task) if options.task else None
    by_run: dict[str, list[_Row]] = {}
    for row in rows:
        rid = row.data.get("run_id", "") or _row_id(row)
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
        before = (stored or {}).get(rid)
        named = parse_name(main.file.stem) if main is not None else None
        task = task_override or (named.task if named else None) or (before.config.task if before else None)
        dataset = (
            options.dataset
            or (named.dataset if named else None)
            or (before.config.dataset if before else None)
        )
        if task is None:
            report.skip("task unknown (no plain log with a study file name shares its run_id; give --task)")
            continue
        if dataset is None:
            report.skip("dataset unknown (give --dataset)")
            continue
        first = main or tasks[0]
        model = options.model or first.data.get("project_name", "") or (before.config.model if before else "")
        if not model:
            report.skip("model unknown (no project_name; give --model)")
            continue
        try:
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
        except _BadRun as bad:
            report.skip("energy not finite or all zero (not stored; see the warnings)")
            report.warnings.append(f"run {rid}: {bad}; run not imported")
            continue
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
        if named and not options.task:
            mode = named.mode
        elif before is not None and not options.task:
            mode = before.config.mode
        else:
            mode = "task-specific"
        source = f"CodeCarbon log, {STUDY}" if named else "CodeCarbon log"
        settings: AnySettings = (  # images only where the study says: the hash covers what is given
            ImportedSettings(source=source, images=named.images)
            if named and named.images
            else ImportedSettings(source=source)
        )
        if before is not None and main is None and not named:
            settings = before.config.settings
        device = options.device or ("cuda:0" if any(_has_gpu(r) for r in group) else "cpu")
        config = RunConfig(
            task=task,
            model=model,
            dataset=dataset,
            n=options.inferences,
            batch_size=1,
            warmup=0,
            reps=1,
            dtype="unknown",
            device=device,
            max_new_tokens=named.max_new_tokens
            if named
            else (before.config.max_new_tokens if before else None),
            mode=mode,  # type: ignore[arg-type]
            settings=settings,
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
            reported=_reported(group, main),
        )
        records.append(record)
    report.runs += len(records)
    return records


def read_codecarbon(
    paths: Iterable[str | Path],
    options: ImportOptions | None = None,
    stored: Callable[[Sequence[str]], Mapping[str, RunRecord]] | None = None,
) -> tuple[list[RunRecord], ImportReport]:
    """Read CodeCarbon logs (files, or directories of ``*.csv``) into run records, without storing them.
    ``stored``: looks up runs already stored by id (their configuration completes a run given here only
    by its task rows)."""
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
    found = stored(sorted({r.data.get("run_id", "") for r in rows} - {""})) if stored else {}
    return build_records(rows, opts, report, found), report


def merge_runs(old: RunRecord, new: RunRecord) -> tuple[RunRecord | None, str]:
    """``old`` (stored) completed with what ``new`` (the same run, from other files) adds: its plain row
    (the window) or its task rows (the phases). Returns ``(merged, "")``, ``(None, "")`` when ``new``
    adds nothing, or ``(None, why)`` when the two disagree (the stored run is kept)."""
    if len(old.repetitions) != 1 or len(new.repetitions) != 1:
        return None, "the stored run is not a CodeCarbon import of one window"
    ow, nw = old.repetitions[0].measurement, new.repetitions[0].measurement
    o_plain, n_plain = SUM_WARNING not in ow.warnings, SUM_WARNING not in nw.warnings
    if o_plain and n_plain and _bare(ow) != _bare(nw):
        return None, "its plain row differs from the stored one"
    if ow.phases and nw.phases and ow.phases != nw.phases:
        return None, "its task rows differ from the stored ones"
    phases = ow.phases or nw.phases
    if o_plain:
        window = ow.model_copy(update={"phases": phases})
    elif n_plain:
        window = nw.model_copy(update={"phases": phases})
    else:
        window = _sum_window(phases)
    if window == ow:
        return None, ""
    base = new if (n_plain and not o_plain) else old
    files = sorted({*_files(old), *_files(new)})
    prov = base.provenance.model_copy(
        update={
            "input_source": "imported from CodeCarbon log " + ", ".join(files),
            "sensors": {
                **base.provenance.sensors,
                "source": "imported from CodeCarbon log " + ", ".join(files),
            },
        }
    )
    ends = [t for t in (old.finished_at, new.finished_at) if t is not None]
    finished = max(ends) if ends else None
    rep = old.repetitions[0].model_copy(update={"measurement": window})
    merged = base.model_copy(
        update={
            "repetitions": [rep],
            "provenance": prov,
            "finished_at": finished,
            "started_at": (
                datetime.fromtimestamp(finished.timestamp() - window.duration_s, UTC)
                if finished is not None
                else base.started_at
            ),
            "reported": (new.reported if n_plain and not o_plain else old.reported) or new.reported,
        }
    )
    return merged, ""


def _bare(m: Measurement) -> Measurement:
    return m.model_copy(update={"phases": []})


def _files(record: RunRecord) -> list[str]:
    text = record.provenance.input_source.removeprefix("imported from CodeCarbon log ")
    return [f for f in text.split(", ") if f]


def import_codecarbon(
    store: Store, paths: Iterable[str | Path], options: ImportOptions | None = None
) -> ImportReport:
    """Read CodeCarbon logs and store their runs. A run already stored is completed with the rows these
    files add (see :func:`merge_runs`); one stored exactly as given is counted ``unchanged``."""

    def lookup(ids: Sequence[str]) -> dict[str, RunRecord]:
        return store.get_many(ids)

    records, report = read_codecarbon(paths, options, stored=lookup)
    existing = store.get_many([r.run_id for r in records])
    fresh = []
    for rec in records:
        old = existing.get(rec.run_id)
        if old is None:
            fresh.append(rec)
            continue
        merged, why = merge_runs(old, rec)
        if merged is not None:
            store.add(merged, replace=True)
            report.merged += 1
        elif why:
            report.warnings.append(
                f"run {rec.run_id} is already stored and {why}; kept the stored run (import into "
                "another store with --db to compare the two)"
            )
            report.skip("already stored with other figures (see the warnings)")
        else:
            report.unchanged += 1
    report.added = store.add_many(fresh) if fresh else 0
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
