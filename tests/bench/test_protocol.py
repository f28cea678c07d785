"""A whole run in this process with the real meter: load metered once, reps with phases, provenance."""

from __future__ import annotations

from typing import Any

import pytest

from wattsup.bench import protocol
from wattsup.bench.protocol import execute, normalise
from wattsup.bench.stats import summarize
from wattsup.meter import Meter, Sampler
from wattsup.meter.timeline import PolledEnergyTrack
from wattsup.records import RunConfig, RunRecord


@pytest.fixture(scope="module")
def gen_record() -> RunRecord:
    return execute(
        RunConfig(
            task="textgen",
            model="tiny/gpt2",
            weights="random",
            dataset="",
            n=3,
            reps=2,
            warmup=1,
            max_new_tokens=4,
        )
    )


def test_record_has_load_reps_and_phases(gen_record: RunRecord) -> None:
    r = gen_record
    assert r.status == "ok" and r.config.task == "text-generation" and r.config.dataset == "wikitext"
    assert r.load is not None and r.load.name == "load" and r.load.duration_s > 0
    assert len(r.repetitions) == 2
    for rep in r.repetitions:
        assert rep.inferences == 3 and len(rep.latencies_s) == 3
        assert rep.output_units == 3 * 4
        m = rep.measurement
        assert [p.name for p in m.phases] == ["preprocess", "generate", "postprocess"]
        assert [p.name for p in m.phase("generate").phases] == ["prefill", "decode"]
        assert sum(p.duration_s for p in m.phases) <= m.duration_s + 1e-6
        assert m.total_energy_j > 0


def test_provenance_says_where_everything_came_from(gen_record: RunRecord) -> None:
    p = gen_record.provenance
    assert "random weights" in p.weights_source and "synthetic WordPiece" in p.weights_source
    assert p.input_source.startswith("synthetic profile 'wikitext'")
    assert {"torch", "transformers"} <= set(p.libraries)
    assert p.sensors and p.python and p.cpu_count
    assert p.wattsup_version
    # the parameter count goes to the record's column too (size classes, the parameters figure)
    assert gen_record.n_params is not None and gen_record.n_params > 0
    assert f"{gen_record.n_params:,} parameters" in p.weights_source


def test_record_survives_json_and_summarises(gen_record: RunRecord) -> None:
    back = RunRecord.model_validate_json(gen_record.model_dump_json())
    assert back.config_hash == gen_record.config_hash
    s = summarize(back, "generated token")
    assert set(s.phases_kwh_per_1k) >= {"preprocess", "generate", "prefill", "decode", "postprocess"}
    assert s.energy_kwh_per_1k.mean > 0 and s.energy_j_per_unit is not None


def test_normalise_fills_defaults_and_detects_zero_shot() -> None:
    c = normalise(RunConfig(task="qa", model="google/flan-t5-base", dataset=""))
    assert (c.task, c.mode, c.dataset, c.max_new_tokens) == ("question-answering", "zero-shot", "squad", 10)
    same = normalise(
        RunConfig(
            task="question-answering",
            model="google/flan-t5-base",
            dataset="squad",
            mode="zero-shot",
            max_new_tokens=10,
        )
    )
    assert c.config_hash() == same.config_hash()
    assert normalise(RunConfig(task="summarization", model="x/y", dataset="")).max_new_tokens == 15


def test_progress_reports_every_stage_in_order() -> None:
    seen: list[tuple[str, int, int]] = []
    execute(
        RunConfig(
            task="text-classification",
            model="tiny/bert-classifier",
            weights="random",
            dataset="",
            n=3,
            reps=2,
            warmup=2,
        ),
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    assert seen == [
        ("load", 0, 1),
        ("load", 1, 1),
        ("warmup", 1, 2),
        ("warmup", 2, 2),
        *[("rep 1", i, 3) for i in (1, 2, 3)],
        *[("rep 2", i, 3) for i in (1, 2, 3)],
    ]


@pytest.mark.parametrize("fail_in", [None, "load", "rep 2"])
def test_a_run_takes_or_gives_up_every_window(monkeypatch: pytest.MonkeyPatch, fail_in: str | None) -> None:
    """The run's windows are measured at its end; a run that fails on the way (in its load or a repetition)
    gives them all up, so the shared sampler keeps no readings for them."""
    sampler = Sampler([PolledEnergyTrack("cpu", lambda t: 10.0 * t, 0.01, "counter", "10 W")])
    sampler.start()
    made: list[Meter] = []

    def meter(**kw: Any) -> Meter:
        made.append(Meter(sources=sampler, **kw))
        return made[-1]

    monkeypatch.setattr(protocol, "Meter", meter)
    real_batches = protocol.run_batches
    calls = [0]

    def run_batches(*a: Any, **kw: Any) -> int:
        calls[0] += 1
        if fail_in == "rep 2" and calls[0] == 2:
            raise RuntimeError("the model failed in repetition 2")
        return real_batches(*a, **kw)

    monkeypatch.setattr(protocol, "run_batches", run_batches)
    config = RunConfig(
        task="text-classification",
        model="tiny/bert-classifier",
        weights="random",
        dataset="",
        n=2,
        reps=3,
        warmup=0,
    )
    if fail_in == "load":

        def load(self: object) -> None:
            raise RuntimeError("the weights are corrupt")

        monkeypatch.setattr("wattsup.bench.tasks.base.Task.load", load)
    try:
        if fail_in is None:
            rec = execute(config)
            assert rec.load is not None and rec.load.name == "load" and len(rec.repetitions) == 3
            assert [r.measurement.name for r in rec.repetitions] == ["inference"] * 3
        else:
            with pytest.raises(RuntimeError, match="corrupt" if fail_in == "load" else "repetition 2"):
                execute(config)
        assert len(made) == {None: 4, "load": 1, "rep 2": 3}[fail_in]
        assert sampler._pins == [], "a window's readings are still kept"
    finally:
        sampler.stop()
