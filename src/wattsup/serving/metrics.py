"""Per-level figures from the request records and the metered steady-state window.

- J per output token = the window's energy / the output tokens produced inside the window (each token
  counted at its timestamp, so requests straddling an edge count only their inside part).
- J per request = J per output token × the mean output tokens of the level's completed requests (the
  ML.ENERGY convention: energy per response at the steady state's cost per token; prefill is inside it).
- Latencies are over the requests submitted inside the window (all completed ones when none was):
  TTFT = first token − submission (queueing included), TPOT = (last − first token) / (tokens − 1) per
  request, ITL = every gap between consecutive tokens (or chunks).
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

import psutil

from wattsup.meter import Measurement
from wattsup.serving.load import STEADY_PHASE, LoadLevel, RequestRecord, Window
from wattsup.serving.results import ComponentFigure, Figure, LatencyStats, LevelResult, WindowFigures

if TYPE_CHECKING:
    from wattsup.serving.engines.base import EngineInfo

__all__ = ["level_result", "percentile", "watts_per_core"]

PREFILL, DECODE, PREFILL_PASS = "prefill", "decode", "prefill_pass"
SHORT_WINDOW_S = 1.0


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    xs = sorted(values)
    k = (len(xs) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _latency(values: list[float], method: str) -> LatencyStats:
    return LatencyStats(
        p50_s=percentile(values, 50),
        p99_s=percentile(values, 99),
        mean_s=statistics.fmean(values) if values else None,
        n=len(values),
        method=method,
    )


def watts_per_core() -> tuple[float, str]:
    """Full-load power of one physical core of this CPU (TDP / cores), to price the generator's CPU time."""
    from wattsup.sensors.models import cpu_spec

    spec = cpu_spec()
    cores = spec.physical_cores or psutil.cpu_count() or 1
    return spec.tdp_w / cores, f"generator CPU-seconds × {spec.tdp_w / cores:.2f} W per core ({spec.source})"


def _methods(m: Measurement) -> str:
    return "+".join(sorted({c.method for c in m.components})) or "none"


def _split(
    measurement: Measurement,
    steady: Measurement | None,
    window: Window,
    records: list[RequestRecord],
    info: EngineInfo,
) -> tuple[Figure, Figure]:
    """Prefill and decode energy inside the window: metered phases where the engine has them, else derived
    from a prefill-only pass, else unknown with the engine's reason."""
    n = window.prefill_pass_requests
    a, b = window.opened_s, window.closed_s
    if steady is None or n is None or a is None or b is None:
        return _phase_figure(steady, PREFILL, info), _phase_figure(steady, DECODE, info)
    try:
        p = measurement.phase(PREFILL_PASS)
    except KeyError:
        return _phase_figure(steady, PREFILL, info), _phase_figure(steady, DECODE, info)
    method = f"{_methods(p)} (derived)"
    if n == 0:
        unknown = Figure(value=None, method=method, note="the prefill-only pass completed no request")
        return unknown, unknown
    k = sum(1 for r in records if r.token_times_s and a <= r.token_times_s[0] <= b)
    pre, pre_b = p.total_energy_j / n * k, p.total_error_bound_j / n * k
    note = (
        f"{info.prefill_decode} ({k} prefills in the window; the pass: {n} requests in {p.duration_s:.3g} s)"
    )
    prefill = Figure(value=pre, error_bound=pre_b, method=method, note=note)
    dec = steady.total_energy_j - pre
    if dec < 0:
        return prefill, Figure(
            value=None, method=method, note="the prefills alone exceed the window's energy: decode unknown"
        )
    return prefill, Figure(
        value=dec, error_bound=steady.total_error_bound_j + pre_b, method=method, note=note
    )


def _phase_figure(steady: Measurement | None, name: str, info: EngineInfo) -> Figure:
    if steady is None:
        return Figure(value=None, method="unavailable", note="no steady-state window")
    try:
        p = steady.phase(name)
    except KeyError:
        return Figure(value=None, method="not separable", note=info.prefill_decode)
    return Figure(
        value=p.total_energy_j,
        error_bound=p.total_error_bound_j,
        method=_methods(p),
        note=info.prefill_decode,
    )


def _no_window(warnings: list[str]) -> WindowFigures:
    warnings.append("no steady-state window: too few requests completed after ramp-up; give more --requests")
    return WindowFigures.unknown()


def _per_token(
    steady: Measurement, tokens: float, out_mean: float | None, timing_label: str, warnings: list[str]
) -> tuple[Figure, Figure]:
    """J per output token over the window's tokens, and J per request at that cost per token."""
    e, eb, method = steady.total_energy_j, steady.total_error_bound_j, _methods(steady)
    count_note = f"window energy / output tokens inside the window (token times: {timing_label})"
    if tokens > 0:
        j_tok = Figure(value=e / tokens, error_bound=eb / tokens, method=method, note=count_note)
    else:
        j_tok = Figure(value=None, method=method, note="no output token was produced inside the window")
        warnings.append("no output token inside the steady-state window: J per token is unknown")
    if j_tok.value is not None and out_mean is not None and j_tok.error_bound is not None:
        j_req = Figure(
            value=j_tok.value * out_mean,
            error_bound=j_tok.error_bound * out_mean,
            method=method,
            note=f"J per output token × {out_mean:.1f} mean output tokens of the completed requests",
        )
    else:
        j_req = Figure(value=None, method=method, note="no completed request or no token in the window")
    return j_tok, j_req


def _mean_gpu_power(steady: Measurement) -> Figure:
    gpus = [c for c in steady.components if c.name.startswith("gpu:")]
    if not gpus:
        return Figure(value=None, method="unavailable", note="no GPU is metered on this host")
    return Figure(
        value=sum(c.energy_j for c in gpus) / steady.duration_s,
        error_bound=sum(c.error_bound_j for c in gpus) / steady.duration_s,
        method="+".join(sorted({c.method for c in gpus})),
        note="every metered GPU together",
    )


def _generator(window: Window, energy_j: float, warnings: list[str]) -> tuple[Figure, float | None]:
    """The load generator's own modelled CPU energy, and its share of the window's energy."""
    per_core, price = watts_per_core()
    gen_j = window.generator_cpu_s * per_core
    gen_share = gen_j / energy_j if energy_j > 0 else None
    if gen_share is not None and gen_share > 0.01:
        warnings.append(
            f"the load generator's own cost is {gen_share:.1%} of the window's energy (target ≤ 1%)"
        )
    return Figure(value=gen_j, method="modeled", note=price), gen_share


def _steady_figures(
    steady: Measurement,
    records: list[RequestRecord],
    window: Window,
    out_mean: float | None,
    timing_label: str,
    warnings: list[str],
) -> tuple[WindowFigures, list[RequestRecord]]:
    """The window's figures, and the completed requests submitted inside it."""
    a, b = window.opened_s, window.closed_s
    assert a is not None and b is not None
    ok = [r for r in records if r.ok]
    window_s = b - a
    tokens = sum(r.tokens_between(a, b) for r in records)
    energy = Figure(
        value=steady.total_energy_j, error_bound=steady.total_error_bound_j, method=_methods(steady)
    )
    j_tok, j_req = _per_token(steady, tokens, out_mean, timing_label, warnings)
    gen_energy, gen_share = _generator(window, steady.total_energy_j, warnings)
    if window_s < SHORT_WINDOW_S:
        warnings.append(
            f"the steady-state window lasted {window_s:.2g} s, under {SHORT_WINDOW_S:g} s: energy "
            "counters step every ~0.1 s and modelled CPU power is sampled; give more --requests"
        )
    figures = WindowFigures(
        window_s=window_s,
        window_output_tokens=tokens,
        window_requests_completed=sum(1 for r in ok if r.finished_s is not None and a <= r.finished_s <= b),
        energy_j=energy,
        components={
            c.name: ComponentFigure.model_validate(c, from_attributes=True) for c in steady.components
        },
        j_per_output_token=j_tok,
        j_per_request=j_req,
        tokens_per_s=tokens / window_s if window_s > 0 else None,
        mean_gpu_power_w=_mean_gpu_power(steady),
        generator_energy_j=gen_energy,
        generator_share=gen_share,
        background_cpu_share=steady.background_cpu_share,
    )
    return figures, [r for r in ok if a <= r.submitted_s <= b]


def _latencies(
    lat: list[RequestRecord], timing: list[str], in_window: bool
) -> tuple[LatencyStats, LatencyStats, LatencyStats]:
    """TTFT, TPOT and ITL over ``lat`` (the requests begun in the window, else every completed one)."""
    method = (
        "+".join(timing)
        + " timestamps"
        + ("" if in_window else " (all completed requests: none began inside the window)")
    )
    ttft = [t for r in lat if (t := r.ttft_s) is not None]
    tpot = [
        (r.token_times_s[-1] - r.token_times_s[0]) / (r.output_tokens - 1)
        for r in lat
        if r.output_tokens > 1 and len(r.token_times_s) >= 2
    ]
    itl = [y - x for r in lat for x, y in zip(r.token_times_s, r.token_times_s[1:], strict=False)]
    itl_method = method + (", per chunk" if "per-chunk" in timing else "")
    return _latency(ttft, method), _latency(tpot, method), _latency(itl, itl_method)


def level_result(
    level: LoadLevel,
    records: list[RequestRecord],
    measurement: Measurement,
    window: Window,
    info: EngineInfo,
    gpu_utilisation: Figure,
    warnings: list[str],
) -> LevelResult:
    """The level's figures from its request records and its metered window (``warnings`` are extended)."""
    warnings = list(warnings)
    ok = [r for r in records if r.ok]
    failed = [r for r in records if not r.ok]
    try:
        steady: Measurement | None = measurement.phase(STEADY_PHASE)
    except KeyError:
        steady = None
    timing: list[str] = sorted({r.timing for r in ok}) or ["none"]
    out_mean = statistics.fmean(r.output_tokens for r in ok) if ok else None
    in_window: list[RequestRecord] = []
    if steady is None or window.opened_s is None or window.closed_s is None or steady.duration_s <= 0:
        figures = _no_window(warnings)
    else:
        figures, in_window = _steady_figures(steady, records, window, out_mean, "+".join(timing), warnings)
    prefill, decode = _split(measurement, steady, window, records, info)
    ttft, tpot, itl = _latencies(in_window or ok, timing, bool(in_window))
    return LevelResult(
        **dict(figures),
        level=level,
        requests=len(records),
        completed=len(ok),
        failed=len(failed),
        errors=list(dict.fromkeys(r.error or "unfinished" for r in failed))[:10],
        prefill_energy_j=prefill,
        decode_energy_j=decode,
        output_tokens_per_request=out_mean,
        ttft=ttft,
        tpot=tpot,
        itl=itl,
        gpu_utilisation_pct=gpu_utilisation,
        generator_cpu_s=window.generator_cpu_s,
        warnings=warnings,
    )
