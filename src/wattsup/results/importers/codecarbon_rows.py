"""Reading CodeCarbon CSV logs: their rows, the components, window, time and provenance each row gives,
and what CodeCarbon itself reported (see :mod:`wattsup.results.importers.codecarbon` for the rules)."""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from wattsup.errors import InvalidInput
from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement
from wattsup.records import Provenance, ReportedCarbon
from wattsup.results.importers.options import ImportOptions, ImportReport, imported_component

_COMPONENTS = (
    ("gpu", "gpu_energy", "gpu_power"),
    ("cpu", "cpu_energy", "cpu_power"),
    ("ram", "ram_energy", "ram_power"),
)

_ID_COLUMNS = ("run_id", "experiment_id")
"""The column naming a run: ``run_id`` since CodeCarbon 2.0, ``experiment_id`` in the 2021 format."""

TOTAL_COLUMN = "energy_consumed"

_GPU_MODEL = re.compile(r"^\s*(\d+)\s*x\s*(.+?)\s*$")


@dataclass
class Row:
    file: Path
    line: int
    task_name: str | None
    data: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


class BadRun(Exception):
    """A row whose figures make its run unusable (not finite, all zero); the message says where."""


def read_rows(path: Path, report: ImportReport) -> list[Row]:
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
                rows.append(Row(path, line, data.get("task_name") if task_mode else None, data))
            return rows
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise InvalidInput("PATH", f"{path}: cannot read it as CSV ({err})") from None


def number(row: Row, key: str, *, finite: bool = False) -> float | None:
    """The number in column ``key``; ``None`` when empty. A value that is not finite is ``None`` too,
    unless ``finite``: then the run is unusable (:class:`BadRun`)."""
    raw = row.data.get(key, "")
    if raw == "" or raw.lower() in ("none", "null"):
        return None
    try:
        v = float(raw)
    except ValueError:
        raise InvalidInput("PATH", f"{row.where}: column {key} is not a number: {raw!r}") from None
    if math.isnan(v) or math.isinf(v):
        if finite:
            raise BadRun(f"{row.where}: {key} is {raw!r}, not a finite number")
        return None
    return v


def has_gpu(row: Row) -> bool:
    """Whether CodeCarbon saw a GPU: a GPU count above 0, a GPU named, or GPU energy above 0."""
    count = row.data.get("gpu_count", "")
    try:
        if count and float(count) > 0:
            return True
    except ValueError:
        pass
    return bool(row.data.get("gpu_model")) or bool(number(row, "gpu_energy"))


def _components(row: Row, options: ImportOptions, version: str) -> tuple[list[ComponentEnergy], list[str]]:
    """The row's components, and warnings that go with the figures (a GPU that used no energy)."""
    out = []
    notes: list[str] = []
    present = [(n, e, p) for n, e, p in _COMPONENTS if e in row.data]
    if not present and TOTAL_COLUMN in row.data:  # the 2021 format: one total, no split
        present = [("total", TOTAL_COLUMN, "")]
    gpu = has_gpu(row)
    for name, energy_col, power_col in present:
        kwh = number(row, energy_col, finite=True)
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
        power = number(row, power_col) if power_col else None
        detail = f"CodeCarbon {version or '(version unknown)'} {energy_col}"
        if name == "total":
            detail += " (this log format gives no split by component)"
        if power is not None:
            detail += f", mean {power:.4g} W"
        if name == "gpu":
            detail += f"; {row.data.get('gpu_model') or 'GPUs not named'}"
        out.append(imported_component(name, kwh * JOULES_PER_KWH, options, detail))
    if out and all(c.energy_j == 0 for c in out):
        cols = ", ".join(e for n, e, _ in present if n != "gpu" or gpu)
        raise BadRun(f"{row.where}: every energy ({cols}) is 0; CodeCarbon measured nothing")
    return out, notes


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S.%f")
"""Beyond ISO 8601: what a spreadsheet makes of CodeCarbon's timestamps (``2023-10-06 0:05:27``, as in a
file of the Power Hungry Processing study)."""


def timestamp(row: Row) -> datetime | None:
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


def measurement(row: Row, name: str, start_s: float, options: ImportOptions) -> Measurement:
    version = row.data.get("codecarbon_version", "")
    components, notes = _components(row, options, version)
    return Measurement(
        name=name,
        start_s=start_s,
        duration_s=max(number(row, "duration") or 0.0, 0.0),
        components=components,
        warnings=notes,
    )


def provenance(row: Row, sources: list[Path]) -> Provenance:
    d = row.data
    gpus: list[str] = []
    gm = d.get("gpu_model", "")
    if gm:
        m = _GPU_MODEL.match(gm)
        gpus = [m.group(2)] * int(m.group(1)) if m else [g.strip() for g in gm.split(",") if g.strip()]
    cpu_count = d.get("cpu_count", "")
    ram = number(row, "ram_total_size")
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


def row_id(row: Row) -> str:
    """The id of a row that has none: a hash of its values, so importing it again adds nothing."""
    blob = "\x1f".join(f"{k}={v}" for k, v in sorted(row.data.items()))
    return "cc-" + hashlib.sha256(blob.encode()).hexdigest()[:32]


def reported(rows: Sequence[Row], main: Row | None) -> ReportedCarbon | None:
    """CodeCarbon's own emissions and place: the plain row's, else the sum over the task rows."""
    source = [main] if main is not None else list(rows)
    first = source[0]
    d = first.data
    if "emissions" not in d and "country_iso_code" not in d:
        return None
    emissions = [number(r, "emissions") for r in source]
    energy = [number(r, TOTAL_COLUMN) for r in source]
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
        pue=number(first, "pue"),
    )


Shape = Literal["plain", "task"]


def shape_of(path: str | Path) -> Shape | None:
    """``"task"`` for a task-mode log, ``"plain"`` for a plain one, ``None`` if it is not CodeCarbon's."""
    with Path(path).open(newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh), [])
    if "run_id" not in header:
        return None
    return "task" if "task_name" in header else "plain"
