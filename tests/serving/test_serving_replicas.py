"""Serving over several devices: two replicas of a tiny random-weight model behind one load generator (on the
CPU here; ``--device cuda`` puts replica k on cuda:k), and the life cycle of a level metered on two GPUs."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from wattsup.errors import InvalidInput
from wattsup.meter import Meter
from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.serving import ServeConfig, parse_levels, run_serving
from wattsup.serving.engines.base import load_causal_lm
from wattsup.serving.engines.replicas import PREFILL_DECODE, ReplicaEngine, replica_devices
from wattsup.serving.lifecycle import CarbonOptions, IdleGpu, level_life_cycle
from wattsup.serving.load import LoadLevel, Window
from wattsup.serving.profiles import get_profile, make_requests
from wattsup.serving.results import Figure

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def engine() -> Any:
    """Two CPU replicas of tiny/gpt2; each counts the batches it ran and the threads it ran them on."""
    eng = ReplicaEngine([load_causal_lm("tiny/gpt2", "random", "cpu", "auto") for _ in range(2)], max_batch=8)
    eng.seen = [[] for _ in eng.replicas]
    for k, replica in enumerate(eng.replicas):
        inner = replica._batch

        def counted(*args: Any, _k: int = k, _inner: Any = inner) -> Any:
            eng.seen[_k].append((len(args[0]), threading.current_thread().name))
            return _inner(*args)

        replica._batch = counted  # type: ignore[method-assign]
    yield eng
    eng.close()


def test_replicas_serve_a_closed_loop_level_together(engine: Any) -> None:
    for seen in engine.seen:
        seen.clear()
    reqs = make_requests(get_profile("chat"), 12, seed=1, max_input_tokens=16, max_output_tokens=6)
    with Meter() as m:
        w = Window(m, ramp_requests=4)
        records = engine.run_level(reqs, LoadLevel(kind="concurrency", value=4), w, seed=0)
        if w.is_open:
            w.close()
    assert [r.index for r in records] == list(range(12))
    for r, q in zip(records, reqs, strict=True):
        assert r.ok and r.output_tokens == q.max_new_tokens == len(r.token_times_s) and r.timing == "per-step"
    # both replicas ran batches of at most ceil(4 / 2) requests, in the engine's threads
    assert all(engine.seen) and sum(n for s in engine.seen for n, _ in s) == 12
    assert all(n <= 2 for s in engine.seen for n, _ in s)
    assert all(name.startswith("wattsup replica") for s in engine.seen for _, name in s)
    assert m.measurement is not None
    steady = m.measurement.phase("steady")
    assert steady.phases == []  # overlapping batches: no prefill/decode phases of the one Meter


def test_replicas_serve_an_open_loop_level(engine: Any) -> None:
    reqs = make_requests(get_profile("chat"), 10, seed=2, max_input_tokens=16, max_output_tokens=4)
    with Meter() as m:
        records = engine.run_level(
            reqs, LoadLevel(kind="rate", value=50.0), Window(m, ramp_requests=1), seed=3
        )
    assert [r.index for r in records] == list(range(10)) and all(r.ok for r in records)


def test_run_serving_with_replicas_reports_them() -> None:
    cfg = ServeConfig(
        engine="static",
        levels=parse_levels("2", None),
        model="tiny/gpt2",
        requests=8,
        max_input_tokens=16,
        max_output_tokens=4,
        idle_seconds=0,
        replicas=2,
    )
    result = run_serving(cfg)
    assert result.engine.device == "cpu,cpu" and result.engine.prefill_decode == PREFILL_DECODE
    assert any("2 replicas of the model" in n for n in result.engine.notes)
    (lv,) = result.levels
    assert lv.completed == 8 and lv.failed == 0 and lv.j_per_output_token.value is not None
    assert lv.prefill_energy_j.value is None and lv.prefill_energy_j.note == PREFILL_DECODE  # unknown, not 0


def test_replica_options_are_checked() -> None:
    import torch

    assert replica_devices("cpu", 3) == ["cpu"] * 3
    with pytest.raises(InvalidInput, match="device: 'cuda:1' with --replicas: give --device cuda"):
        replica_devices("cuda:1", 2)
    with pytest.raises(InvalidInput, match="replicas: must be at least 1"):
        replica_devices("cpu", 0)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInput, match="replicas: 2 replicas need 2 GPUs, torch sees 0 here"):
            replica_devices("cuda", 2)
    bad = ServeConfig(engine="continuous", levels=parse_levels("1", None), model="tiny/gpt2", replicas=2)
    with pytest.raises(InvalidInput, match="replicas: must be 1 or more, with --engine static"):
        bad.validate()


def _steady(gpu_w: list[float], seconds: float = 10.0) -> Measurement:
    comps = [
        ComponentEnergy(name=f"gpu:{i}", energy_j=w * seconds, method="counter", error_bound_j=1.0)
        for i, w in enumerate(gpu_w)
    ]
    comps.append(ComponentEnergy(name="cpu", energy_j=300.0, method="modeled", error_bound_j=150.0))
    return Measurement(name="steady", start_s=0.0, duration_s=seconds, components=comps)


def _life_cycle(steady: Measurement) -> dict[str, Any]:
    lc, note = level_life_cycle(
        steady,
        load="c=8",
        requests_completed=40,
        output_tokens=4000,
        gpu_utilisation_pct=80.0,
        idle=IdleGpu("NVIDIA H100 80GB HBM3", Figure(value=70.0, method="measured")),
        host_cpu_model=None,
        options=CarbonOptions(region="FRA", fleet_utilisation=0.5),
    )
    assert lc is not None, note
    return lc


def test_a_level_on_two_gpus_is_charged_two_gpus_of_idle_capacity_and_embodied_carbon() -> None:
    one, two = _life_cycle(_steady([300.0])), _life_cycle(_steady([300.0, 300.0]))
    assert (one["gpus"], two["gpus"]) == (1, 2)
    assert two["gpu_seconds_per_request"] == pytest.approx(2 * one["gpu_seconds_per_request"])
    idle = {lc["gpus"]: next(p for p in lc["parts"] if p["part"] == "idle capacity") for lc in (one, two)}
    # n x t x (1 - U) / U x P_idle: 1 x 10 s x 1 x 70 W against 2 GPUs
    assert idle[1]["energy_wh"] == pytest.approx(10 * 70 / 3600)
    assert idle[2]["energy_wh"] == pytest.approx(2 * idle[1]["energy_wh"])
    for b in ("active", "comprehensive"):
        for key in ("embodied_gpu_g", "embodied_host_g"):
            v1, v2 = one[b]["per_request"][key], two[b]["per_request"][key]
            if v1 is not None:
                assert v2 == pytest.approx(2 * v1)
    accel = {lc["gpus"]: next(p for p in lc["parts"] if p["part"] == "accelerator") for lc in (one, two)}
    assert accel[2]["energy_wh"] == pytest.approx(2 * accel[1]["energy_wh"])  # both GPUs' energy counted
    assert one["comprehensive"]["per_request"]["embodied_gpu_g"] is not None
