"""Named suites: ``quick`` (every task with a tiny real architecture, random weights, small n: a few minutes
on a laptop CPU) and ``paper`` (one task-specific model per study task and two multi-purpose models on the
study's three prompted tasks, n = 1,000, for a GPU)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wattsup.bench.tasks import get_task_info
from wattsup.errors import NotFound
from wattsup.records import RunConfig, checked_config


@dataclass(frozen=True)
class SuiteRun:
    task: str
    model: str
    dataset: str
    max_new_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


QUICK: tuple[SuiteRun, ...] = (
    SuiteRun("text-classification", "tiny/bert-classifier", "imdb"),
    SuiteRun("token-classification", "tiny/bert-ner", "conll2003"),
    SuiteRun("question-answering", "tiny/distilbert-qa", "squad"),
    SuiteRun("fill-mask", "tiny/roberta-mlm", "c4"),
    SuiteRun("text-generation", "tiny/gpt2", "wikitext"),
    SuiteRun("summarization", "tiny/bart-summarizer", "cnn_dailymail"),
    SuiteRun("image-classification", "tiny/vit-classifier", "imagenet-1k"),
    SuiteRun("object-detection", "tiny/yolos-detector", "coco"),
    SuiteRun("image-to-text", "tiny/vit-gpt2-captioner", "coco"),
    SuiteRun("text-to-image", "tiny/stable-diffusion", "diffusiondb"),
    SuiteRun("sentence-similarity", "tiny/minilm-embedder", "stsb"),
    SuiteRun("automatic-speech-recognition", "tiny/whisper", "librispeech"),
    SuiteRun("chat", "tiny/llama-chat", "chat-prompts", max_new_tokens=128),
    SuiteRun("text-classification", "tiny/t5-zero-shot", "imdb"),
    SuiteRun("question-answering", "tiny/bloom-zero-shot", "squad"),
)

PAPER: tuple[SuiteRun, ...] = (
    SuiteRun("text-classification", "distilbert-base-uncased-finetuned-sst-2-english", "imdb"),
    SuiteRun("token-classification", "dslim/bert-base-NER", "conll2003"),
    SuiteRun("question-answering", "deepset/roberta-base-squad2", "squad"),
    SuiteRun("fill-mask", "bert-base-uncased", "c4"),
    SuiteRun("text-generation", "gpt2", "wikitext"),
    SuiteRun("summarization", "facebook/bart-large-cnn", "cnn_dailymail"),
    SuiteRun("image-classification", "google/vit-base-patch16-224", "imagenet-1k"),
    SuiteRun("object-detection", "facebook/detr-resnet-50", "coco"),
    SuiteRun("image-to-text", "Salesforce/blip-image-captioning-base", "coco"),
    SuiteRun("text-to-image", "runwayml/stable-diffusion-v1-5", "diffusiondb"),
    *(
        SuiteRun(task, model, ds)
        for model in ("google/flan-t5-base", "bigscience/bloomz-560m")
        for task, ds in (
            ("text-classification", "imdb"),
            ("question-answering", "squad"),
            ("summarization", "cnn_dailymail"),
        )
    ),
)

SUITES: dict[str, dict[str, Any]] = {
    "quick": {
        "runs": QUICK,
        "n": 4,
        "reps": 3,
        "warmup": 1,
        "weights": "random",
        "device": "auto",
        "timeout_s": 120.0,
    },
    "paper": {
        "runs": PAPER,
        "n": 1000,
        "reps": 3,
        "warmup": 10,
        "weights": "pretrained",
        "device": "cuda",
        "timeout_s": 6 * 3600.0,
    },
}


def needs_missing_extra(config: RunConfig) -> str | None:
    """The extra a configuration needs that is not installed here (``diffusion`` for text-to-image)."""
    import importlib.util

    if config.task == "text-to-image" and importlib.util.find_spec("diffusers") is None:
        return "diffusion"
    return None


def default_device() -> str:
    """``cuda`` where torch sees a GPU, else ``cpu``: the quick suite runs on whatever hardware is here."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def suite_configs(
    name: str,
    tasks: list[str] | None = None,
    *,
    device: str | None = None,
    weights: str | None = None,
    n: int | None = None,
    reps: int | None = None,
    hub_inputs: bool = False,
    dtype: str = "float32",
    seed: int = 0,
) -> list[RunConfig]:
    """The RunConfigs of suite ``name``, optionally only for ``tasks`` (names or aliases)."""
    if name not in SUITES:
        raise NotFound("suite", name, list(SUITES))
    s = SUITES[name]
    dev = device or s["device"]
    if dev == "auto":
        dev = default_device()
    wanted = {get_task_info(t).name for t in tasks} if tasks else None
    out = []
    for r in s["runs"]:
        if wanted is not None and r.task not in wanted:
            continue
        out.append(
            checked_config(
                dict(
                    task=r.task,
                    model=r.model,
                    dataset=f"hub:{r.dataset}" if hub_inputs else r.dataset,
                    weights=weights or s["weights"],
                    n=n or s["n"],
                    reps=reps or s["reps"],
                    warmup=s["warmup"],
                    device=dev,
                    dtype=dtype,
                    seed=seed,
                    max_new_tokens=r.max_new_tokens,
                    extra=dict(r.extra),
                )
            )
        )
    return out
