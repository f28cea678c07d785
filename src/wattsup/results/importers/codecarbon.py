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

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from wattsup.meter.measurement import ComponentEnergy, Measurement, Method
from wattsup.records import Repetition, RunConfig, RunRecord
from wattsup.records.settings import AnySettings, ImportedSettings
from wattsup.results.importers.codecarbon_rows import (
    TOTAL_COLUMN as TOTAL,
)
from wattsup.results.importers.codecarbon_rows import (
    BadRun,
    Row,
    has_gpu,
    measurement,
    provenance,
    read_rows,
    reported,
    row_id,
    timestamp,
)
from wattsup.results.importers.options import (
    ImportOptions,
    ImportReport,
    check_options,
    csv_files,
    resolve_task,
)
from wattsup.results.importers.study import STUDY, StudyName, parse_name, read_lengths
from wattsup.results.store import Store

SUM_WARNING = "no plain CodeCarbon row for this run: the window is the sum of its task-mode rows"


def build_records(
    rows: Sequence[Row],
    options: ImportOptions,
    report: ImportReport,
    stored: Mapping[str, RunRecord] | None = None,
) -> list[RunRecord]:
    """Group rows by ``run_id`` into run records (see the module docs). ``stored``: runs already in the
    store by id, whose configuration a run given only by task rows takes."""
    task_override = resolve_task(options.task) if options.task else None
    by_run: dict[str, list[Row]] = {}
    for row in rows:
        rid = row.data.get("run_id", "") or row_id(row)
        by_run.setdefault(rid, []).append(row)
    records = []
    for rid, group in by_run.items():
        run = _Run.of(rid, group, options, (stored or {}).get(rid), task_override, report)
        record = run.record(options, report) if run is not None else None
        if record is not None:
            records.append(record)
    report.runs += len(records)
    return records


@dataclasses.dataclass(frozen=True)
class _Run:
    """One run's rows and what they say of it: its plain row (the window), its task rows (the phases),
    the run stored before under its id, what the study's file naming tells, and its task, dataset, model."""

    rid: str
    group: list[Row]
    main: Row | None
    tasks: list[Row]
    before: RunRecord | None
    named: StudyName | None
    task: str
    dataset: str
    model: str

    @classmethod
    def of(
        cls,
        rid: str,
        group: list[Row],
        options: ImportOptions,
        before: RunRecord | None,
        task_override: str | None,
        report: ImportReport,
    ) -> _Run | None:
        """The run, or None (counted in ``report``) where its task, dataset or model cannot be told."""
        plain = [r for r in group if r.task_name is None]
        tasks = [r for r in group if r.task_name is not None]
        if len(plain) > 1 and len({(r.data.get(TOTAL), r.data.get("duration")) for r in plain}) > 1:
            report.warnings.append(
                f"run {rid}: {len(plain)} plain rows ({plain[0].file.name}...); kept the last one"
            )
        main = plain[-1] if plain else None
        named = parse_name(main.file.stem) if main is not None else None
        old = before.config if before else None
        task = task_override or (named.task if named else None) or (old.task if old else None)
        dataset = options.dataset or (named.dataset if named else None) or (old.dataset if old else None)
        if task is None:
            report.skip("task unknown (no plain log with a study file name shares its run_id; give --task)")
            return None
        if dataset is None:
            report.skip("dataset unknown (give --dataset)")
            return None
        first = main or tasks[0]
        model = options.model or first.data.get("project_name", "") or (old.model if old else "")
        if not model:
            report.skip("model unknown (no project_name; give --model)")
            return None
        return cls(rid, group, main, tasks, before, named, task, dataset, model)

    def window(self, options: ImportOptions) -> Measurement:
        """The run's window: its plain row with the task rows as phases, else the sum of the task rows."""
        phases = []
        offset = 0.0
        for t in self.tasks:
            assert t.task_name is not None
            p = measurement(t, t.task_name, offset, options)
            phases.append(p)
            offset += p.duration_s
        if self.main is not None:
            return measurement(self.main, "window", 0.0, options).model_copy(update={"phases": phases})
        return _sum_window(phases)

    def config(self, options: ImportOptions) -> RunConfig:
        named, before = self.named, self.before
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
        if before is not None and self.main is None and not named:
            settings = before.config.settings
        return RunConfig(
            task=self.task,
            model=self.model,
            dataset=self.dataset,
            n=options.inferences,
            batch_size=1,
            warmup=0,
            reps=1,
            dtype="unknown",
            device=options.device or ("cuda:0" if any(has_gpu(r) for r in self.group) else "cpu"),
            max_new_tokens=named.max_new_tokens
            if named
            else (before.config.max_new_tokens if before else None),
            mode=mode,  # type: ignore[arg-type]
            settings=settings,
        )

    def record(self, options: ImportOptions, report: ImportReport) -> RunRecord | None:
        """The run record, or None (counted in ``report``) where its energy is unusable."""
        try:
            window = self.window(options)
        except BadRun as bad:
            report.skip("energy not finite or all zero (not stored; see the warnings)")
            report.warnings.append(f"run {self.rid}: {bad}; run not imported")
            return None
        if not window.components:
            report.skip("no energy column filled in")
            return None
        units = None
        if options.lengths is not None:
            per = options.lengths.get((self.model, self.dataset.removesuffix("_native")))
            if per is not None:
                units = round(per * options.inferences)
        stamps = [s for s in (timestamp(r) for r in self.group) if s is not None]
        finished = max(stamps) if stamps else None
        started = (finished.timestamp() - window.duration_s) if finished else None
        return RunRecord(
            run_id=self.rid,
            config=self.config(options),
            started_at=datetime.fromtimestamp(started, UTC) if started is not None else datetime.now(UTC),
            finished_at=finished,
            repetitions=[
                Repetition(index=0, measurement=window, inferences=options.inferences, output_units=units)
            ],
            provenance=provenance(self.main or self.tasks[0], sorted({r.file for r in self.group}, key=str)),
            n_params=(options.params or {}).get(self.model),
            reported=reported(self.group, self.main),
        )


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
    rows: list[Row] = []
    for path in csv_files(paths):
        report.files += 1
        got = read_rows(path, report)
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
