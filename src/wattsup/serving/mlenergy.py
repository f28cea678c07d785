"""Serving results as rows that compare with the ML.ENERGY Benchmark v3 leaderboard's LLM records.

The field names and units are those of ``LLMRun`` in the ML.ENERGY data toolkit (``ml-energy/data``,
``mlenergy_data/records/runs.py``), where the energy is **GPU energy only** over the steady state: so
``energy_per_token_joules`` here is the metered GPU energy of the steady-state window over the output
tokens produced inside it, not wattsup's all-component figure (that one is ``wattsup_j_per_output_token``
beside it). Fields wattsup has no counterpart for are written as null (empty in CSV); docs/serving.md
lists them. wattsup's provenance and methods follow in ``wattsup_*`` fields.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wattsup.errors import InvalidInput
from wattsup.serving.results import ComponentFigure, LevelResult, ServingResult

__all__ = [
    "MLENERGY_FIELDS",
    "NO_COUNTERPART",
    "WATTSUP_FIELDS",
    "check_out",
    "mlenergy_rows",
    "write_mlenergy",
]

_GPU = re.compile(r"^gpu:\d+$")

MLENERGY_FIELDS: tuple[str, ...] = (
    "domain",
    "task",
    "model_id",
    "nickname",
    "architecture",
    "total_params_billions",
    "activated_params_billions",
    "weight_precision",
    "gpu_model",
    "num_gpus",
    "max_num_seqs",
    "seed",
    "num_request_repeats",
    "tensor_parallel",
    "expert_parallel",
    "data_parallel",
    "steady_state_energy_joules",
    "steady_state_duration_seconds",
    "energy_per_token_joules",
    "energy_per_request_joules",
    "output_throughput_tokens_per_sec",
    "request_throughput_req_per_sec",
    "avg_power_watts",
    "total_output_tokens",
    "completed_requests",
    "avg_output_len",
    "mean_itl_ms",
    "median_itl_ms",
    "p50_itl_ms",
    "p90_itl_ms",
    "p95_itl_ms",
    "p99_itl_ms",
    "avg_batch_size",
    "is_stable",
    "unstable_reason",
)
"""ML.ENERGY v3 ``LLMRun`` fields, in its order (its file paths left out)."""

NO_COUNTERPART: dict[str, str] = {
    "architecture": "wattsup does not classify dense/MoE",
    "activated_params_billions": "wattsup counts total parameters only",
    "num_request_repeats": "no such setting",
    "tensor_parallel": "no parallelism is configured by wattsup",
    "expert_parallel": "no parallelism is configured by wattsup",
    "data_parallel": "no parallelism is configured by wattsup",
    "p90_itl_ms": "wattsup keeps ITL p50, p99 and mean",
    "p95_itl_ms": "wattsup keeps ITL p50, p99 and mean",
    "avg_batch_size": "needs the server's running-requests gauge (vLLM Prometheus)",
    "is_stable": "ML.ENERGY's own check (≥ 20 s steady state, batch ≥ 85% full); see wattsup_warnings",
    "unstable_reason": "see is_stable",
}
"""ML.ENERGY fields written as null, with why."""

WATTSUP_FIELDS: tuple[str, ...] = (
    "wattsup_result_id",
    "wattsup_created_at",
    "wattsup_version",
    "wattsup_engine",
    "wattsup_load",
    "wattsup_profile",
    "wattsup_device",
    "wattsup_hostname",
    "wattsup_gpu_energy_method",
    "wattsup_gpu_energy_error_bound_joules",
    "wattsup_j_per_output_token",
    "wattsup_j_per_output_token_method",
    "wattsup_j_per_request",
    "wattsup_ttft_p50_ms",
    "wattsup_tpot_p50_ms",
    "wattsup_request_wh_active",
    "wattsup_request_wh_comprehensive",
    "wattsup_boundary_ratio",
    "wattsup_request_gco2e_location",
    "wattsup_request_water_ml",
    "wattsup_notes",
    "wattsup_warnings",
)
FIELDS = MLENERGY_FIELDS + WATTSUP_FIELDS


def _ms(v: float | None) -> float | None:
    return None if v is None else v * 1000.0


def _lc(lv: LevelResult, boundary: str, key: str) -> float | None:
    if lv.life_cycle is None:
        return None
    v = lv.life_cycle[boundary]["per_request"][key]
    return None if v is None else float(v)


@dataclass(frozen=True)
class _GpuWindow:
    """The level's GPU energy over the steady window, the only energy ML.ENERGY counts."""

    gpus: dict[str, ComponentFigure]
    energy_j: float | None
    per_token_j: float | None
    note: str | None

    @classmethod
    def of(cls, lv: LevelResult) -> _GpuWindow:
        gpus = {k: c for k, c in lv.components.items() if _GPU.match(k)}
        gpu_j = sum(c.energy_j for c in gpus.values()) if gpus else None
        if gpu_j is None:
            return cls(gpus, None, None, "no GPU metered: the GPU-only ML.ENERGY energy fields are null")
        if lv.window_s is None or lv.window_output_tokens <= 0:
            note = "no steady-state window with output tokens: energy per token unknown"
            return cls(gpus, gpu_j, None, note)
        return cls(gpus, gpu_j, gpu_j / lv.window_output_tokens, None)


def _mlenergy_part(result: ServingResult, lv: LevelResult, g: _GpuWindow) -> dict[str, Any]:
    """The fields of :data:`MLENERGY_FIELDS` (None: unknown or no counterpart in wattsup)."""
    info, window, ept = result.engine, lv.window_s, g.per_token_j
    avg_len, tps, gpu_j = lv.output_tokens_per_request, lv.tokens_per_s, g.energy_j
    gpu_model = result.gpu_model
    if gpu_model is None and result.provenance.gpus:
        gpu_model = result.provenance.gpus[0]
    return {
        "domain": "llm",
        "task": result.profile,
        "model_id": info.model,
        "nickname": info.model,
        "architecture": None,
        "total_params_billions": None if info.parameters is None else info.parameters / 1e9,
        "activated_params_billions": None,
        "weight_precision": info.dtype or None,
        "gpu_model": gpu_model,
        "num_gpus": len(g.gpus),
        "max_num_seqs": lv.level.concurrency if lv.level.kind == "concurrency" else None,
        "seed": result.seed,
        "num_request_repeats": None,
        "tensor_parallel": None,
        "expert_parallel": None,
        "data_parallel": None,
        "steady_state_energy_joules": gpu_j if window is not None else None,
        "steady_state_duration_seconds": window,
        "energy_per_token_joules": ept,
        "energy_per_request_joules": None if ept is None or avg_len is None else ept * avg_len,
        "output_throughput_tokens_per_sec": tps,
        "request_throughput_req_per_sec": None if tps is None or not avg_len else tps / avg_len,
        "avg_power_watts": None if gpu_j is None or not window else gpu_j / window,
        "total_output_tokens": None if avg_len is None else avg_len * lv.completed,
        "completed_requests": lv.completed,
        "avg_output_len": avg_len,
        "mean_itl_ms": _ms(lv.itl.mean_s),
        "median_itl_ms": _ms(lv.itl.p50_s),
        "p50_itl_ms": _ms(lv.itl.p50_s),
        "p90_itl_ms": None,
        "p95_itl_ms": None,
        "p99_itl_ms": _ms(lv.itl.p99_s),
        "avg_batch_size": None,
        "is_stable": None,
        "unstable_reason": None,
    }


def _wattsup_part(result: ServingResult, lv: LevelResult, g: _GpuWindow) -> dict[str, Any]:
    """The fields of :data:`WATTSUP_FIELDS`: wattsup's own figures beside ML.ENERGY's."""
    notes = [g.note] if g.note else []
    notes.append(
        f"task is wattsup's prompt profile {result.profile!r} (synthetic), not an ML.ENERGY task; "
        "max_num_seqs is the closed-loop concurrency (null for Poisson rates); "
        "latencies from the requests begun in the window"
    )
    if lv.life_cycle_note:
        notes.append(lv.life_cycle_note)
    return {
        "wattsup_result_id": result.id,
        "wattsup_created_at": result.created_at.isoformat(),
        "wattsup_version": result.provenance.wattsup_version,
        "wattsup_engine": result.engine.engine,
        "wattsup_load": lv.level.label,
        "wattsup_profile": result.profile,
        "wattsup_device": result.engine.device or None,
        "wattsup_hostname": result.provenance.hostname,
        "wattsup_gpu_energy_method": "+".join(sorted({c.method for c in g.gpus.values()})) or None,
        "wattsup_gpu_energy_error_bound_joules": (
            sum(c.error_bound_j for c in g.gpus.values()) if g.gpus and lv.window_s is not None else None
        ),
        "wattsup_j_per_output_token": lv.j_per_output_token.value,
        "wattsup_j_per_output_token_method": f"{lv.j_per_output_token.method} (every metered component)",
        "wattsup_j_per_request": lv.j_per_request.value,
        "wattsup_ttft_p50_ms": _ms(lv.ttft.p50_s),
        "wattsup_tpot_p50_ms": _ms(lv.tpot.p50_s),
        "wattsup_request_wh_active": _lc(lv, "active", "energy_wh"),
        "wattsup_request_wh_comprehensive": _lc(lv, "comprehensive", "energy_wh"),
        "wattsup_boundary_ratio": None if lv.life_cycle is None else lv.life_cycle["ratio"],
        "wattsup_request_gco2e_location": _lc(lv, "comprehensive", "operational_location_g"),
        "wattsup_request_water_ml": _lc(lv, "comprehensive", "water_ml"),
        "wattsup_notes": "; ".join(notes),
        "wattsup_warnings": "; ".join(lv.warnings),
    }


def _row(result: ServingResult, lv: LevelResult) -> dict[str, Any]:
    g = _GpuWindow.of(lv)
    return _mlenergy_part(result, lv, g) | _wattsup_part(result, lv, g)


def mlenergy_rows(results: Iterable[ServingResult]) -> list[dict[str, Any]]:
    """One row per load level of each result, keyed by :data:`FIELDS` (None: unknown or no counterpart)."""
    return [_row(r, lv) for r in results for lv in r.levels]


def check_out(out: str | Path, flag: str = "mlenergy-out") -> str:
    """The format of ``out`` from its suffix (json or csv), or one clear error naming ``flag``."""
    suffix = Path(out).suffix.lower().lstrip(".")
    if suffix not in ("json", "csv"):
        raise InvalidInput(flag, f"name a .json or .csv file, got {str(out)!r}")
    parent = Path(out).parent
    if not parent.is_dir():
        raise InvalidInput(flag, f"the folder {str(parent)!r} does not exist; create it first")
    return suffix


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float) and not math.isfinite(v):
        return ""
    return v


def write_mlenergy(results: Iterable[ServingResult], out: str | Path, flag: str = "mlenergy-out") -> int:
    """Write the rows to ``out`` (.json: a list of objects; .csv: a header of :data:`FIELDS`, empty cells
    for null); the file appears only when complete. Returns the number of rows."""
    fmt = check_out(out, flag)
    rows = mlenergy_rows(results)
    path = Path(out)
    tmp = path.with_name(path.name + ".partial")
    try:
        if fmt == "json":
            tmp.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
        else:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                w = csv.DictWriter(fh, fieldnames=list(FIELDS))
                w.writeheader()
                for r in rows:
                    w.writerow({k: _cell(r[k]) for k in FIELDS})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return len(rows)
