"""What wattsup knows of each task without importing its implementation: names and aliases, the fields
its inputs need, its output unit, whether the Power Hungry Processing study measured it, and the family of
typed settings its configurations take. Both :mod:`wattsup.bench` (which runs tasks) and
:mod:`wattsup.results` (whose importers name them) read it from here."""

from __future__ import annotations

from dataclasses import dataclass

from wattsup.errors import NotFound
from wattsup.records.settings import Family


@dataclass(frozen=True)
class TaskInfo:
    """A task's name and what it needs; ``module`` and ``cls`` name its implementation in
    :mod:`wattsup.bench.tasks` (imported only when a run starts)."""

    name: str
    module: str
    cls: str
    aliases: tuple[str, ...]
    description: str
    fields: tuple[str, ...]
    unit: str
    in_study: bool
    max_new_tokens: int | None
    family: Family = "encoder"
    """Which typed settings its configurations take (:mod:`wattsup.records.settings`)."""


TASKS: tuple[TaskInfo, ...] = (
    TaskInfo(
        "text-classification",
        "text_classification",
        "TextClassification",
        ("sentiment", "text_classif"),
        "label a text (study: IMDB, Rotten Tomatoes, SST-2)",
        ("text",),
        "input token",
        True,
        None,
    ),
    TaskInfo(
        "token-classification",
        "token_classification",
        "TokenClassification",
        ("ner", "token_classif"),
        "label each token (study: ReCoRD, WikiANN, CoNLL-2003)",
        ("text",),
        "input token",
        True,
        None,
    ),
    TaskInfo(
        "question-answering",
        "question_answering",
        "QuestionAnswering",
        ("qa", "extractive-qa"),
        "extract an answer span (study: SQuAD, SQuAD v2, SciQ)",
        ("question", "context"),
        "input token",
        True,
        None,
    ),
    TaskInfo(
        "fill-mask",
        "fill_mask",
        "FillMask",
        ("masked-lm", "mlm", "fillmask"),
        "predict a masked word (study: BookCorpus, C4, OSCAR)",
        ("text",),
        "input token",
        True,
        None,
    ),
    TaskInfo(
        "text-generation",
        "text_generation",
        "TextGeneration",
        ("textgen", "causal-lm"),
        "continue a prompt, 10 new tokens (study: WikiText, BookCorpus, OSCAR)",
        ("text",),
        "generated token",
        True,
        10,
        "generative",
    ),
    TaskInfo(
        "summarization",
        "summarization",
        "Summarization",
        ("summarisation", "summarize"),
        "summarise in 15 tokens (study: SAMSum, CNN/DailyMail, XSum)",
        ("text",),
        "generated token",
        True,
        15,
        "generative",
    ),
    TaskInfo(
        "image-classification",
        "image_classification",
        "ImageClassification",
        ("image_class",),
        "label an image (study: CIFAR-10, CIFAR-100, ImageNet-1k)",
        ("image",),
        "image",
        True,
        None,
    ),
    TaskInfo(
        "object-detection",
        "object_detection",
        "ObjectDetection",
        ("detection", "obj_detection"),
        "detect objects (study: Visual Genome, CPPE-5, COCO)",
        ("image",),
        "image",
        True,
        None,
    ),
    TaskInfo(
        "image-to-text",
        "image_captioning",
        "ImageCaptioning",
        ("image-captioning", "captioning", "itt"),
        "caption an image, 20 tokens (study: Visual Genome, RedCaps, COCO)",
        ("image",),
        "generated token",
        True,
        20,
        "generative",
    ),
    TaskInfo(
        "text-to-image",
        "image_generation",
        "ImageGeneration",
        ("image-generation", "tti", "diffusion"),
        "generate an image, 50 steps (study: DiffusionDB, ImageReward, SD Prompts); needs diffusers",
        ("text",),
        "image",
        True,
        None,
        "diffusion",
    ),
    TaskInfo(
        "sentence-similarity",
        "sentence_similarity",
        "SentenceSimilarity",
        ("embeddings", "similarity"),
        "embed and compare two sentences (beyond the study)",
        ("text", "text_pair"),
        "input token",
        False,
        None,
    ),
    TaskInfo(
        "automatic-speech-recognition",
        "speech_recognition",
        "SpeechRecognition",
        ("asr", "transcription"),
        "transcribe speech, 30 tokens (beyond the study)",
        ("audio",),
        "generated token",
        False,
        30,
        "generative",
    ),
    TaskInfo(
        "chat",
        "text_generation",
        "Chat",
        ("chat-generation", "assistant"),
        "answer a chat turn, 256 new tokens (beyond the study)",
        ("text",),
        "generated token",
        False,
        256,
        "generative",
    ),
)
ZERO_SHOT_TASKS = ("text-classification", "question-answering", "summarization")


def task_names() -> list[str]:
    return [t.name for t in TASKS]


def get_task_info(name: str) -> TaskInfo:
    """A task by name or alias (case-insensitive); an error listing close matches otherwise."""
    found = find_task(name)
    if found is not None:
        return found
    raise NotFound(
        "task",
        name,
        [t.name for t in TASKS] + [a for t in TASKS for a in t.aliases],
        hint="See 'wattsup tasks'.",
    )


def find_task(name: str) -> TaskInfo | None:
    """A task by name or alias (case-insensitive), or None."""
    low = name.lower().replace("_", "-")
    for t in TASKS:
        if low == t.name or low in (a.replace("_", "-") for a in t.aliases):
            return t
    return None


def family_of(task: str, mode: str) -> Family | None:
    """The settings family of ``task`` in ``mode`` (zero-shot runs generate), None for an unknown task."""
    info = find_task(task)
    if info is None:
        return None
    return "generative" if mode == "zero-shot" else info.family


__all__ = ["TASKS", "ZERO_SHOT_TASKS", "TaskInfo", "family_of", "find_task", "get_task_info", "task_names"]
