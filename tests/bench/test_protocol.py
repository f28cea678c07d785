"""A whole run in this process with the real meter: load metered once, reps with phases, provenance."""

from __future__ import annotations

import pytest

from wattsup.bench.protocol import execute, normalise
from wattsup.bench.stats import summarize
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
