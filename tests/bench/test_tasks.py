"""Each task's preprocessing, model call and postprocessing, on tiny catalog models (random weights)."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from wattsup.bench.inputs import resolve_inputs
from wattsup.bench.tasks import TASKS, get_task_info, task_class
from wattsup.bench.tasks.base import DECODE_NOTE, derive_decode, no_phase
from wattsup.bench.tasks.zero_shot import build_prompt, map_answer
from wattsup.errors import InvalidInput, NotFound, WattsupError
from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import RunConfig


def loaded(task: str, model: str, mode: str = "task-specific", **kw: Any) -> Any:
    cfg = RunConfig(task=task, model=model, weights="random", dataset="", mode=mode, **kw)  # type: ignore[arg-type]
    t = task_class(task, mode)(cfg)
    t.load()
    return t


def examples(task: Any, dataset: str, n: int = 2) -> list[dict[str, Any]]:
    return list(resolve_inputs(dataset, task.fields, task.name, n, seed=0).examples)


def test_text_classification_gives_a_label_per_text() -> None:
    t = loaded("text-classification", "tiny/bert-classifier")
    res = t.run(examples(t, "sst2"), no_phase)
    assert len(res.outputs) == 2
    assert all(o["label"] in ("LABEL_0", "LABEL_1") and 0.5 <= o["score"] <= 1 for o in res.outputs)
    assert res.units > 2  # input tokens
    assert "random weights" in t.provenance["weights"] and "synthetic" in t.provenance["tokenizer"]


def test_token_classification_and_fill_mask() -> None:
    t = loaded("token-classification", "tiny/bert-ner")
    res = t.run(examples(t, "conll2003"), no_phase)
    assert len(res.outputs) == 2 and all(isinstance(o, list) for o in res.outputs)
    f = loaded("fill-mask", "tiny/roberta-mlm")
    res = f.run(examples(f, "c4"), no_phase)
    assert len(res.outputs) == 2  # one masked position per text: the last word, as the study did
    assert all(len(o) == 5 for o in res.outputs)


def test_qa_answer_comes_from_the_context() -> None:
    t = loaded("question-answering", "tiny/distilbert-qa")
    exs = examples(t, "squad")
    res = t.run(exs, no_phase)
    for ex, out in zip(exs, res.outputs, strict=True):
        assert out["answer"].lower() in ex["context"].lower()


@pytest.mark.parametrize(
    ("task", "model", "dataset", "tokens"),
    [
        ("text-generation", "tiny/gpt2", "wikitext", 10),
        ("summarization", "tiny/bart-summarizer", "samsum", 15),
        ("image-to-text", "tiny/vit-gpt2-captioner", "coco", 20),
        ("automatic-speech-recognition", "tiny/whisper", "librispeech", 30),
        ("chat", "tiny/llama-chat", "chat-prompts", 12),
    ],
)
def test_generation_is_fixed_length(task: str, model: str, dataset: str, tokens: int) -> None:
    kw = {"max_new_tokens": 12} if task == "chat" else {}
    t = loaded(task, model, **kw)
    assert t.max_new_tokens == tokens
    res = t.run(examples(t, dataset), no_phase)
    assert res.units == 2 * tokens  # min = max new tokens: EOS never ends a row early
    assert res.excluded_s > 0  # the separate prefill pass ran and is kept out of the latency


def test_batched_generation_pads_on_the_left() -> None:
    t = loaded("text-generation", "tiny/gpt2", batch_size=3)
    res = t.run(examples(t, "wikitext", 3), no_phase)
    assert res.units == 30 and t.tokenizer.padding_side == "left"


def test_image_classification_and_detection() -> None:
    c = loaded("image-classification", "tiny/vit-classifier")
    res = c.run(examples(c, "cifar10"), no_phase)
    assert res.units == 2 and len(res.outputs[0]) == 5
    d = loaded("object-detection", "tiny/yolos-detector")
    res = d.run(examples(d, "coco"), no_phase)
    assert res.units == 2 and set(res.outputs[0]) == {"boxes", "labels"}


def test_sentence_similarity_is_a_cosine() -> None:
    t = loaded("sentence-similarity", "tiny/minilm-embedder")
    ex = [
        {"text": "the same words", "text_pair": "the same words"},
        {"text": "a dog", "text_pair": "the sky"},
    ]
    res = t.run(ex, no_phase)
    assert res.outputs[0] == pytest.approx(1.0, abs=1e-4)
    assert -1.0 <= res.outputs[1] <= 1.0


@pytest.mark.parametrize(
    ("task", "model", "dataset", "tokens"),
    [
        ("text-classification", "tiny/t5-zero-shot", "sst2", 1),
        ("question-answering", "tiny/bloom-zero-shot", "sciq", 10),
        ("summarization", "tiny/t5-zero-shot", "xsum", 15),
    ],
)
def test_zero_shot_prompts_the_model(task: str, model: str, dataset: str, tokens: int) -> None:
    t = loaded(task, model, mode="zero-shot")
    res = t.run(examples(t, dataset), no_phase)
    assert res.units == 2 * tokens


def test_zero_shot_templates_and_answer_mapping() -> None:
    assert build_prompt("summarization", {"text": "Long text."}) == "summarize the following text: Long text."
    assert build_prompt("question-answering", {"question": "Why", "context": "Because."}) == (
        'Why? Find the answer to the question in the following text: "Because.". Answer:'
    )
    assert map_answer("text-classification", " Positive") == {"label": "positive"}
    assert map_answer("text-classification", "negative.") == {"label": "negative"}
    assert map_answer("text-classification", "maybe")["label"] == "unknown"
    assert map_answer("question-answering", ' "Paris".\nmore') == {"answer": "Paris"}


def test_zero_shot_only_for_the_three_prompted_tasks() -> None:
    with pytest.raises(InvalidInput, match="zero-shot"):
        task_class("fill-mask", "zero-shot")


def test_model_that_does_not_fit_the_task_is_named() -> None:
    with pytest.raises(InvalidInput, match="tiny/gpt2 is a text-generation model"):
        loaded("image-classification", "tiny/gpt2")


def test_unknown_task_lists_close_matches() -> None:
    with pytest.raises(NotFound) as err:
        get_task_info("text-clasification")
    assert "text-classification" in err.value.suggestions
    assert get_task_info("NER").name == "token-classification"
    assert len(TASKS) == 13


@pytest.mark.skipif(importlib.util.find_spec("diffusers") is not None, reason="diffusers is installed")
def test_image_generation_names_the_diffusion_extra() -> None:
    with pytest.raises(WattsupError, match=r"pip install 'wattsup\[diffusion\]'"):
        loaded("text-to-image", "tiny/stable-diffusion")


def _m(name: str, j: float, d: float, phases: list[Measurement] | None = None) -> Measurement:
    return Measurement(
        name=name,
        start_s=0.0,
        duration_s=d,
        phases=phases or [],
        components=[ComponentEnergy(name="gpu:0", energy_j=j, method="counter", error_bound_j=0.5)],
    )


def test_decode_is_generate_minus_prefill_and_the_extra_pass_leaves_the_totals() -> None:
    raw = _m(
        "inference",
        100.0,
        10.0,
        [
            _m("preprocess", 5.0, 1.0),
            _m("prefill", 20.0, 2.0),
            _m("generate", 70.0, 6.0),
            _m("postprocess", 1.0, 0.5),
        ],
    )
    m = derive_decode(raw)
    assert [p.name for p in m.phases] == ["preprocess", "generate", "postprocess"]
    assert m.total_energy_j == pytest.approx(80.0) and m.duration_s == pytest.approx(8.0)
    gen = m.phase("generate")
    assert [p.name for p in gen.phases] == ["prefill", "decode"]
    assert m.phase("decode").total_energy_j == pytest.approx(50.0)
    assert m.phase("decode").total_error_bound_j == pytest.approx(1.0)  # bounds add under subtraction
    assert m.phase("prefill").total_energy_j + m.phase("decode").total_energy_j == pytest.approx(70.0)
    assert DECODE_NOTE in m.warnings
    nested = _m("inference", 10.0, 1.0, [_m("generate", 9.0, 0.9, [_m("prefill", 9.0, 0.9)])])
    assert derive_decode(nested) == nested  # one new token: generate is its prefill, nothing to derive


def test_a_difference_below_zero_is_kept_at_zero_with_the_bound_that_covers_it() -> None:
    """A prefill pass measured above its generate window (both within their bounds) gives no negative
    decode energy: 0 J, a bound that reaches the difference, and a note saying so."""
    raw = _m("inference", 30.0, 4.0, [_m("prefill", 12.0, 1.0), _m("generate", 10.0, 2.0)])
    m = derive_decode(raw)
    decode = m.phase("decode").component("gpu:0")
    assert decode.energy_j == 0.0
    assert decode.error_bound_j >= 2.0
    assert "the difference was -2 J" in decode.detail
    assert m.total_energy_j == pytest.approx(18.0)
