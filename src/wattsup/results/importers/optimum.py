"""Import optimum-benchmark reports, the format the AI Energy Score publishes its measurements in.

A report is JSON: either a whole benchmark (``benchmark.json``: ``{"config": ..., "report": ...}``) or
just its report (``benchmark_report.json``), with a ``benchmark_config.json`` next to it if there is one.
The report holds one entry per target (``load_model``, ``prefill``, ``decode``, ``forward``, ``call``,
...), each with ``energy: {unit: "kWh", cpu, ram, gpu, total}`` measured by CodeCarbon.

A report becomes one run with one repetition of ``scenario.num_samples`` inferences: the window is the sum
of the inference targets (``prefill`` + ``decode`` for text generation, where optimum-benchmark's decode
is generate − prefill; ``forward``; ``call`` for diffusion), which are its phases; ``load_model`` is the
model-load window. Dataset loading and preprocessing are not inference and are left out (the report's
``warnings`` say so). GPU energy is labelled ``sampled`` and CPU/RAM ``modeled`` unless overridden, as for
CodeCarbon logs.

A report whose figures are not numbers, not finite (``NaN``, ``Infinity``) or nested beyond reason is
refused with one line naming the file and the key; one whose inference energy is all zero is skipped
(counted, with a warning), never stored as a run that used nothing. The run id is a hash of the report's
measurements, so the same result under two file names (``benchmark.json`` and
``benchmark_report.json``) is stored once.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from wattsup.errors import InvalidInput
from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement
from wattsup.records import ImportedSettings, Provenance, Repetition, RunConfig, RunRecord
from wattsup.results.importers.options import ImportOptions, ImportReport, check_options, imported_component
from wattsup.results.store import Store

INFERENCE_TARGETS = ("prefill", "decode", "forward", "call")
"""Report targets that are inference work, in the order they ran."""
SKIPPED_TARGETS = ("load_dataset", "preprocess_dataset")


def report_files(paths: Iterable[str | Path]) -> list[Path]:
    """JSON reports named, directories searched recursively for ``benchmark.json`` and
    ``benchmark_report.json``."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = sorted(
                q for q in p.rglob("*.json") if q.name in ("benchmark.json", "benchmark_report.json")
            )
            if not found:
                raise InvalidInput("PATH", f"{p} holds no benchmark.json or benchmark_report.json")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise InvalidInput("PATH", f"{p} does not exist")
    if not out:
        raise InvalidInput("PATH", "give at least one report file or directory")
    return list(dict.fromkeys(out))


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except RecursionError:
        raise InvalidInput("PATH", f"{path}: nested too deeply to be an optimum-benchmark report") from None
    except (OSError, UnicodeDecodeError, ValueError) as err:  # JSONDecodeError is a ValueError
        raise InvalidInput("PATH", f"{path}: cannot read it as JSON ({err})") from None
    if not isinstance(data, dict):
        raise InvalidInput("PATH", f"{path}: expected a JSON object")
    return data


def _split(path: Path, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    if "report" in data and isinstance(data["report"], dict):
        config = data.get("config") if isinstance(data.get("config"), dict) else {}
        return config or {}, data["report"]
    sibling = path.with_name("benchmark_config.json")
    config = _load(sibling) if sibling.is_file() else {}
    return config, data


def _number(value: Any, where: str) -> float:
    """A finite number from the report, else one clear error naming ``where`` (file and key)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput("PATH", f"{where}: expected a number, got {json.dumps(value)[:60]}")
    v = float(value)
    if not math.isfinite(v):
        raise InvalidInput("PATH", f"{where}: expected a finite number, got {value!r}")
    return v


def _count(value: Any, where: str, default: int) -> int:
    """A whole count (samples, batch size, tokens) from the report; missing or null is ``default``."""
    if value is None:
        return default
    v = _number(value, where)
    if v != int(v) or v < 0:
        raise InvalidInput("PATH", f"{where}: expected a whole number of at least 0, got {value!r}")
    return int(v)


def _components(energy: dict[str, Any], options: ImportOptions, where: str) -> list[ComponentEnergy]:
    unit = str(energy.get("unit", "kWh"))
    if unit != "kWh":
        raise InvalidInput("PATH", f"{where}: energy unit {unit!r}, expected kWh")
    out = []
    for name in ("gpu", "cpu", "ram"):
        v = energy.get(name)
        if v is None:
            continue
        j = _number(v, f"{where}.energy.{name}") * JOULES_PER_KWH
        if j < 0:
            raise InvalidInput("PATH", f"{where}: {name} energy is negative")
        out.append(imported_component(name, j, options, f"optimum-benchmark (CodeCarbon) {name} energy"))
    return out


def _duration(target: dict[str, Any], where: str) -> float:
    lat = target.get("latency")
    if isinstance(lat, dict):
        values = lat.get("values")
        if isinstance(values, list) and values:
            return float(sum(_number(v, f"{where}.latency.values[{i}]") for i, v in enumerate(values)))
    return 0.0


def _measurement(
    name: str, target: dict[str, Any], start: float, options: ImportOptions, where: str
) -> Measurement:
    energy = target.get("energy")
    comps = _components(energy, options, f"{where}: {name}") if isinstance(energy, dict) else []
    return Measurement(
        name=name, start_s=start, duration_s=_duration(target, f"{where}: {name}"), components=comps
    )


def read_report(path: Path, options: ImportOptions, report: ImportReport) -> RunRecord | None:
    """One optimum-benchmark report as a run record (``None``, counted in ``report``, if unusable)."""
    config, targets = _split(path, _load(path))
    backend = _dict(config.get("backend"))
    scenario = _dict(config.get("scenario"))
    names = _names(backend, scenario, options, report)
    if names is None:
        return None
    window = _window(path, targets, options, report)
    if window is None:
        return None
    load = None
    lm = targets.get("load_model")
    if isinstance(lm, dict) and isinstance(lm.get("energy"), dict):
        load = _measurement("load_model", lm, 0.0, options, str(path))
    n = _count(scenario.get("num_samples"), f"{path}: config.scenario.num_samples", 0) or options.inferences
    # The measurements identify the result, whatever the file is called or whether it carries its config.
    digest = hashlib.sha256(json.dumps(targets, sort_keys=True).encode()).hexdigest()[:32]
    stat = path.stat()
    return RunRecord(
        run_id=f"ob-{digest}",
        config=_config(path, names, int(n), backend, scenario, options),
        started_at=datetime.fromtimestamp(stat.st_mtime - window.duration_s, UTC),
        finished_at=datetime.fromtimestamp(stat.st_mtime, UTC),
        load=load,
        repetitions=[Repetition(index=0, measurement=window, inferences=int(n))],
        provenance=_provenance(path, names[1], backend, _dict(config.get("environment"))),
    )


def _names(
    backend: dict[str, Any], scenario: dict[str, Any], options: ImportOptions, report: ImportReport
) -> tuple[str, str, str] | None:
    """The run's task, model and dataset (the options', else the report's); None, counted, if unknown."""
    from wattsup.records.tasks import get_task_info

    task_name = options.task or backend.get("task")
    if not task_name:
        report.skip("task unknown (the report has no config.backend.task; give --task)")
        return None
    model = options.model or backend.get("model")
    if not model:
        report.skip("model unknown (the report has no config.backend.model; give --model)")
        return None
    dataset = options.dataset or scenario.get("dataset_name")
    if not dataset:
        report.skip("dataset unknown (the report has no config.scenario.dataset_name; give --dataset)")
        return None
    return get_task_info(str(task_name)).name, str(model), str(dataset)


def _window(
    path: Path, targets: dict[str, Any], options: ImportOptions, report: ImportReport
) -> Measurement | None:
    """The inference targets as the phases of one window (their energies summed); None, counted in
    ``report``, when none has energy or all of it is zero."""
    phases = []
    offset = 0.0
    for name in INFERENCE_TARGETS:
        t = targets.get(name)
        if isinstance(t, dict) and isinstance(t.get("energy"), dict):
            m = _measurement(name, t, offset, options, str(path))
            phases.append(m)
            offset += m.duration_s
    if not phases:
        report.skip("no inference target with energy (prefill, decode, forward or call)")
        return None
    if all(c.energy_j == 0 for p in phases for c in p.components):
        report.skip("inference energy all zero (not stored; see the warnings)")
        report.warnings.append(
            f"{path}: every energy of {', '.join(p.name for p in phases)} is 0 (the tracker measured "
            "nothing); not imported"
        )
        return None
    for name in SKIPPED_TARGETS:
        if isinstance(targets.get(name), dict) and targets[name].get("energy") is not None:
            report.warnings.append(f"{path}: {name} energy left out (not inference)")
    totals: dict[str, ComponentEnergy] = {}
    for p in phases:
        for c in p.components:
            prev = totals.get(c.name)
            totals[c.name] = (
                c
                if prev is None
                else prev.model_copy(
                    update={
                        "energy_j": prev.energy_j + c.energy_j,
                        "error_bound_j": prev.error_bound_j + c.error_bound_j,
                    }
                )
            )
    return Measurement(start_s=0.0, duration_s=offset, components=list(totals.values()), phases=phases)


def _config(
    path: Path,
    names: tuple[str, str, str],
    n: int,
    backend: dict[str, Any],
    scenario: dict[str, Any],
    options: ImportOptions,
) -> RunConfig:
    task, model, dataset = names
    gen = _dict(scenario.get("generate_kwargs"))
    device = str(backend.get("device") or options.device or "cuda:0")
    if device == "cuda":
        ids = str(backend.get("device_ids") or "0").split(",")[0]
        device = f"cuda:{ids}"
    input_shapes = _dict(scenario.get("input_shapes"))
    return RunConfig(
        task=task,
        model=model,
        weights="random" if backend.get("no_weights") else "pretrained",
        dataset=dataset,
        n=n,
        batch_size=_count(
            input_shapes.get("batch_size"), f"{path}: config.scenario.input_shapes.batch_size", 1
        )
        or 1,
        warmup=_count(scenario.get("warmup_runs"), f"{path}: config.scenario.warmup_runs", 0),
        reps=1,
        dtype=str(backend.get("torch_dtype") or "unknown"),
        device=device,
        max_new_tokens=_count(
            gen.get("max_new_tokens"), f"{path}: config.scenario.generate_kwargs.max_new_tokens", 0
        )
        or None,
        settings=ImportedSettings(
            source=f"optimum-benchmark report ({scenario.get('name', 'scenario unknown')})"
        ),
    )


def _provenance(path: Path, model: str, backend: dict[str, Any], env: dict[str, Any]) -> Provenance:
    raw_gpus = env.get("gpu")
    gpus: list[Any] = raw_gpus if isinstance(raw_gpus, list) else []
    return Provenance(
        os=str(env.get("platform", "")),
        python=str(env.get("python_version", "")),
        cpu_model=str(env.get("cpu", "")),
        cpu_count=int(env["cpu_count"]) if isinstance(env.get("cpu_count"), int) else None,
        ram_gb=_number(env["cpu_ram_mb"], f"{path}: config.environment.cpu_ram_mb") / 1024
        if isinstance(env.get("cpu_ram_mb"), int | float)
        else None,
        gpus=[str(g) for g in gpus],
        libraries={
            k.removesuffix("_version"): str(v) for k, v in env.items() if k.endswith("_version") and v
        },
        sensors={"source": f"imported from optimum-benchmark report {path}"},
        weights_source=f"hub: {model}"
        + (" (random weights: no_weights)" if backend.get("no_weights") else ""),
        input_source=f"imported from optimum-benchmark report {path}",
    )


def import_optimum(
    store: Store | None, paths: Iterable[str | Path], options: ImportOptions | None = None
) -> tuple[list[RunRecord], ImportReport]:
    """Read optimum-benchmark / AI Energy Score reports; store them if ``store`` is given. The run id is
    a hash of the report file, so importing it again adds nothing."""
    opts = options or ImportOptions()
    check_options(opts)
    report = ImportReport()
    records: dict[str, RunRecord] = {}
    origin: dict[str, Path] = {}
    for path in report_files(paths):
        report.files += 1
        try:
            rec = read_report(path, opts, report)
        except ValidationError as err:  # a value of the right type that no run can have
            first = err.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise InvalidInput("PATH", f"{path}: {key}: {first['msg']}") from None
        if rec is None:
            continue
        if rec.run_id in records:
            report.warnings.append(
                f"{path} holds the same measurements as {origin[rec.run_id]}: one result, imported once"
            )
            report.skip("same result as another file of this import")
            continue
        records[rec.run_id] = rec
        origin[rec.run_id] = path
    report.runs = len(records)
    if store is not None and records:
        report.added = store.add_many(records.values())
        report.unchanged = report.runs - report.added
    return list(records.values()), report
