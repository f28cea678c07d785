"""Engines (a) static batching and (b) continuous batching on a tiny random-weight causal LM, on the CPU."""

from __future__ import annotations

import pytest

from wattsup.errors import InvalidInput
from wattsup.meter import Meter
from wattsup.serving import ServeConfig, parse_levels, run_serving
from wattsup.serving.engines.base import load_causal_lm
from wattsup.serving.engines.continuous import ContinuousBatchingEngine
from wattsup.serving.engines.static import StaticBatchingEngine
from wattsup.serving.load import LoadLevel, Window
from wattsup.serving.profiles import get_profile, make_requests

pytest.importorskip("torch")
pytest.importorskip("transformers")


def _cfg(
    engine: str, levels: str, n: int, model: str = "tiny/gpt2", out: int = 8, **kw: object
) -> ServeConfig:
    return ServeConfig(
        engine=engine,
        levels=parse_levels(levels, kw.pop("rate", None)),  # type: ignore[arg-type]
        model=model,
        requests=n,
        max_input_tokens=16,
        max_output_tokens=out,
        **kw,  # type: ignore[arg-type]
    )


def test_static_batches_count_only_the_tokens_each_request_asked_for() -> None:
    lm = load_causal_lm("tiny/gpt2", "random", "cpu", "auto")
    engine = StaticBatchingEngine(lm)
    reqs = make_requests(get_profile("summarisation"), 12, seed=3, max_input_tokens=16, max_output_tokens=45)
    assert len({r.max_new_tokens for r in reqs}) > 1  # lengths differ inside a batch
    with Meter() as m:
        w = Window(m, ramp_requests=4)
        records = engine.run_level(reqs, LoadLevel(kind="concurrency", value=4), w, seed=0)
    assert [r.index for r in records] == list(range(12))
    for r, q in zip(records, reqs, strict=True):
        assert r.ok and r.output_tokens == q.max_new_tokens == len(r.token_times_s)
        assert r.timing == "per-step" and r.input_tokens is not None and r.input_tokens <= q.input_tokens
        assert r.token_times_s == sorted(r.token_times_s) and r.token_times_s[0] > r.submitted_s
    assert m.measurement is not None
    steady = m.measurement.phase("steady")
    names = [p.name for p in steady.phases]
    assert names == ["prefill", "decode"]  # the middle batch, split into its phases
    assert sum(p.duration_s for p in steady.phases) <= steady.duration_s


def test_static_engine_reports_every_figure_with_its_method() -> None:
    result = run_serving(_cfg("static", "2", 10))
    (lv,) = result.levels
    assert lv.completed == 10 and lv.failed == 0
    assert lv.window_s is not None and lv.window_output_tokens > 0
    method = lv.energy_j.method
    assert method == "+".join(sorted({c.method for c in lv.components.values()}))
    for fig in (
        lv.energy_j,
        lv.j_per_output_token,
        lv.j_per_request,
        lv.prefill_energy_j,
        lv.decode_energy_j,
    ):
        assert fig.value is not None and fig.value > 0 and fig.error_bound is not None and fig.method
    assert lv.j_per_output_token.value == pytest.approx(lv.energy_j.value / lv.window_output_tokens)  # type: ignore[operator]
    assert lv.prefill_energy_j.value + lv.decode_energy_j.value <= lv.energy_j.value + lv.energy_j.error_bound  # type: ignore[operator]
    assert lv.ttft.p50_s is not None and lv.tpot.p99_s is not None and lv.itl.p50_s is not None
    assert lv.tokens_per_s is not None and lv.tokens_per_s > 0
    assert lv.generator_share is not None and lv.generator_energy_j.method == "modeled"
    if not any(c.startswith("gpu:") for c in lv.components):  # a CPU-only host: said so, never zero
        assert lv.mean_gpu_power_w.value is None and lv.gpu_utilisation_pct.value is None
        assert lv.mean_gpu_power_w.note and lv.gpu_utilisation_pct.note
    if set(lv.components) <= {"cpu", "ram"}:
        assert method == "modeled"
    assert result.provenance.weights_source.startswith("random weights")
    assert "chat" in result.provenance.input_source and result.provenance.sensors


@pytest.mark.slow
def test_j_per_token_falls_as_concurrency_rises_from_1_to_8(monkeypatch: pytest.MonkeyPatch) -> None:
    # The energy here is modelled from CPU time (and RAM power over wall time), so other processes on a
    # shared host inflate a level's figure: one torch thread (two spin at OpenMP barriers while another
    # process holds a core), and each level runs twice, interleaved, the lower one counting.
    import torch

    monkeypatch.setenv("WATTSUP_TORCH_THREADS", "1")
    threads = torch.get_num_threads()
    try:
        result = run_serving(_cfg("static", "1,2,4,8,8,4,2,1", 64, out=32))
    finally:
        torch.set_num_threads(threads)
    assert result.provenance.torch_threads == 1
    best: dict[int, float] = {}
    for lv in result.levels:
        assert lv.completed == 64 and lv.j_per_output_token.value is not None
        assert lv.j_per_output_token.method == lv.energy_j.method and lv.j_per_output_token.error_bound
        c = lv.level.concurrency
        best[c] = min(best.get(c, float("inf")), lv.j_per_output_token.value)
    j = [best[c] for c in (1, 2, 4, 8)]
    assert j[0] > j[1] > j[2] > j[3], j


def test_open_loop_static_levels_batch_what_has_arrived() -> None:
    result = run_serving(_cfg("static", "", 12, rate="40"))
    (lv,) = result.levels
    assert lv.level.label == "rate=40/s" and lv.completed == 12
    assert lv.ttft.p50_s is not None and lv.ttft.p50_s >= 0


def test_continuous_batching_counts_generated_tokens_and_derives_the_prefill_split() -> None:
    lm = load_causal_lm("tiny/llama-chat", "random", "cpu", "auto")
    engine = ContinuousBatchingEngine(lm)
    reqs = make_requests(get_profile("chat"), 8, seed=1, max_input_tokens=12, max_output_tokens=6)
    with Meter() as m:
        w = Window(m, ramp_requests=2)
        records = engine.run_level(reqs, LoadLevel(kind="concurrency", value=2), w, seed=0)
    for r, q in zip(records, reqs, strict=True):
        assert r.ok, r.error
        assert r.output_tokens == q.max_new_tokens  # EOS disabled: the drawn length, really produced
        assert r.timing == "per-token" and len(r.token_times_s) == r.output_tokens
    assert m.measurement is not None and [p.name for p in m.measurement.phases] == ["steady", "prefill_pass"]
    assert w.prefill_pass_requests == 8  # the same prompts again, one new token each
    result = run_serving(_cfg("continuous", "2", 8, model="tiny/llama-chat", out=6), engine=engine)
    (lv,) = result.levels
    assert lv.completed == 8 and lv.j_per_output_token.value is not None
    pre, dec = lv.prefill_energy_j, lv.decode_energy_j
    assert pre.value is not None and pre.value > 0 and pre.method.endswith("(derived)")
    assert dec.value is not None and dec.method == pre.method and "prefill-only pass" in pre.note
    assert pre.value + dec.value == pytest.approx(lv.energy_j.value)  # the window, split
    assert "derived" in result.engine.prefill_decode


def test_bad_configurations_fail_before_any_load() -> None:
    with pytest.raises(InvalidInput, match="--requests"):
        run_serving(_cfg("static", "8", 10))
    with pytest.raises(InvalidInput, match="engine"):
        run_serving(_cfg("vllm", "1", 10))
    with pytest.raises(InvalidInput, match="base-url"):
        run_serving(ServeConfig(engine="http", levels=parse_levels("1", None), requests=4))
    with pytest.raises(InvalidInput, match="max-batch"):
        run_serving(_cfg("static", "4", 16, max_batch=2))
    lm = load_causal_lm("tiny/gpt2", "random", "cpu", "auto")
    too_long = make_requests(get_profile("reasoning"), 3, seed=0)
    with pytest.raises(InvalidInput, match="--max-input-tokens"):
        lm.check_fits(too_long)


def test_without_token_timestamps_times_are_derived_and_labelled() -> None:
    # What an older transformers returns: a GenerationOutput without timestamps, only the life span.
    import time
    from types import SimpleNamespace

    from wattsup.serving.load import RequestRecord

    engine = ContinuousBatchingEngine.__new__(ContinuousBatchingEngine)
    t0 = time.perf_counter()
    out = SimpleNamespace(
        request_id="wattsup-0",
        generated_tokens=[5, 6, 7, 8],
        error=None,
        timestamps=None,
        lifespan=(t0, t0 + 0.4),
    )
    records = {0: RequestRecord(index=0, submitted_s=t0 - 0.1)}
    engine._record(records, out, offset=0.0)
    r = records[0]
    assert r.timing == "derived" and r.output_tokens == 4
    assert r.token_times_s == pytest.approx([t0 + 0.1, t0 + 0.2, t0 + 0.3, t0 + 0.4])
    failed = SimpleNamespace(
        request_id="prefill-1", generated_tokens=[], error="boom\ntrace", timestamps=None, lifespan=(-1, -1)
    )
    records[1] = RequestRecord(index=1, submitted_s=t0)
    engine._record(records, failed, offset=0.0)
    assert records[1].error == "boom" and not records[1].ok and records[1].output_tokens == 0


def test_torch_threads_follow_the_harness_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from wattsup.serving.engines.base import torch_threads

    monkeypatch.setenv("WATTSUP_TORCH_THREADS", "3")
    assert torch_threads() == 3
    monkeypatch.setenv("WATTSUP_TORCH_THREADS", "zero")
    with pytest.raises(InvalidInput, match="WATTSUP_TORCH_THREADS"):
        torch_threads()
    monkeypatch.delenv("WATTSUP_TORCH_THREADS")
    assert torch_threads() >= 1
