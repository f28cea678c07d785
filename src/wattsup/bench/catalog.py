"""The packaged model catalog: the study's 82 task-specific and 8 multi-purpose models, popular current models
and tiny test architectures, each as a configuration that builds the real architecture with no download.

An entry's ``config`` overrides the transformers defaults of its ``model_type`` (nested ``encoder``,
``decoder``, ``text_config``, ``vision_config`` and ``backbone_config`` dicts likewise). Diffusion entries
list diffusers components instead, and are built by :mod:`wattsup.bench.backends.diffusers`. Parameter
counts are the backends' (:func:`wattsup.bench.backends.count_parameters`): this module imports no other
of wattsup.bench.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from wattsup.errors import InvalidInput, NotFound, WattsupError

if TYPE_CHECKING:
    import torch

Family = Literal["study-task-specific", "study-multi-purpose", "popular", "tiny"]

PARAMETER_TOLERANCE = 0.02
"""How far a catalog build's parameter count may be from the published one (fraction of it)."""

DIFFUSION_TYPES = frozenset({"stable-diffusion", "stable-diffusion-xl"})


@dataclass(frozen=True)
class CatalogEntry:
    """One model of the catalog. ``num_parameters`` is the published count (None for tiny entries)."""

    id: str
    task: str
    family: Family
    model_type: str
    config: dict[str, Any]
    num_parameters: int | None
    parameters_source: str
    aliases: tuple[str, ...] = ()
    zero_shot_tasks: tuple[str, ...] = ()
    count_model: Literal["base", "task"] = "base"
    parameters_exception: str | None = None
    random_weights: bool = True
    processor: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    gated: bool = False

    @property
    def is_diffusion(self) -> bool:
        return self.model_type in DIFFUSION_TYPES

    def supports(self, task: str) -> bool:
        return task == self.task or task in self.zero_shot_tasks

    def tasks(self) -> list[str]:
        out = [] if self.task == "text2text-generation" else [self.task]
        return out + [t for t in self.zero_shot_tasks if t not in out]


class Catalog:
    """The entries, looked up by id or alias (case-insensitive)."""

    def __init__(self, entries: list[CatalogEntry]) -> None:
        self.entries = entries
        self._by_name: dict[str, CatalogEntry] = {}
        for e in entries:
            for name in (e.id, *e.aliases):
                self._by_name[name.lower()] = e

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Any:
        return iter(self.entries)

    def find(self, name: str) -> CatalogEntry | None:
        return self._by_name.get(name.lower())

    def get(self, name: str) -> CatalogEntry:
        found = self.find(name)
        if found is None:
            raise NotFound(
                "model", name, [e.id for e in self.entries], hint="See 'wattsup models' for the catalog."
            )
        return found

    def for_task(self, task: str | None = None, family: str | None = None) -> list[CatalogEntry]:
        return [
            e
            for e in self.entries
            if (task is None or e.supports(task)) and (family is None or e.family == family)
        ]


@functools.cache
def load_catalog() -> Catalog:
    """The packaged catalog (``wattsup/data/bench/models.json``)."""
    raw = json.loads(
        resources.files("wattsup.data").joinpath("bench/models.json").read_text(encoding="utf-8")
    )
    entries = []
    for m in raw["models"]:
        entries.append(
            CatalogEntry(
                id=m["id"],
                task=m["task"],
                family=m["family"],
                model_type=m["model_type"],
                config=m["config"],
                num_parameters=m.get("num_parameters"),
                parameters_source=m.get("parameters_source", ""),
                aliases=tuple(m.get("aliases", ())),
                zero_shot_tasks=tuple(m.get("zero_shot_tasks", ())),
                count_model=m.get("count_model", "base"),
                parameters_exception=m.get("parameters_exception"),
                random_weights=m.get("random_weights", True),
                processor=m.get("processor", {}),
                notes=m.get("notes", ""),
                gated=m.get("gated", False),
            )
        )
    return Catalog(entries)


def _make_config(model_type: str, overrides: dict[str, Any]) -> Any:
    from transformers import CONFIG_MAPPING

    if model_type not in CONFIG_MAPPING:
        raise WattsupError(
            f"model type {model_type!r} is not in this transformers version "
            f"({_transformers_version()}); it needs a version that still ships it"
        )
    return CONFIG_MAPPING[model_type](**copy.deepcopy(overrides))


def _transformers_version() -> str:
    import transformers

    return str(transformers.__version__)


def build_config(entry: CatalogEntry) -> Any:
    """The transformers configuration of a (non-diffusion) catalog entry."""
    if entry.is_diffusion:
        raise InvalidInput(
            "model", f"{entry.id} is a diffusion pipeline; its components are built by the text-to-image task"
        )
    cfg = dict(entry.config)
    if entry.model_type == "vision-encoder-decoder":
        from transformers import VisionEncoderDecoderConfig

        enc = dict(cfg.pop("encoder"))
        dec = dict(cfg.pop("decoder"))
        config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(
            _make_config(enc.pop("model_type"), enc), _make_config(dec.pop("model_type"), dec)
        )
        for k, v in cfg.items():
            setattr(config, k, v)
        # generate() needs these on the top-level config of an encoder-decoder pair
        config.decoder_start_token_id = config.decoder.bos_token_id
        config.pad_token_id = config.decoder.eos_token_id
        config.eos_token_id = config.decoder.eos_token_id
        return config
    return _make_config(entry.model_type, cfg)


AUTO_CLASS_BY_TASK: dict[str, str] = {
    "text-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "fill-mask": "AutoModelForMaskedLM",
    "text-generation": "AutoModelForCausalLM",
    "chat": "AutoModelForCausalLM",
    "summarization": "AutoModelForSeq2SeqLM",
    "text2text-generation": "AutoModelForSeq2SeqLM",
    "image-classification": "AutoModelForImageClassification",
    "object-detection": "AutoModelForObjectDetection",
    "image-to-text": "AutoModelForImageTextToText",
    "sentence-similarity": "AutoModel",
    "automatic-speech-recognition": "AutoModelForSpeechSeq2Seq",
}


def auto_class(name: str) -> Any:
    import transformers

    return getattr(transformers, name)


def model_from_config(
    config: Any,
    auto_class_name: str,
    device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    **kwargs: Any,
) -> Any:
    """Instantiate ``config`` with the given Auto class on ``device`` (``"meta"``: no memory at all);
    ``kwargs`` go to ``from_config`` (``attn_implementation``, ...)."""
    import torch

    cls = auto_class(auto_class_name)
    if dtype is not None:
        kwargs["dtype"] = dtype
    with torch.device(device):
        return cls.from_config(config, **kwargs)


def model_class_for(entry: CatalogEntry, task: str) -> str:
    """The Auto class that runs ``entry`` on ``task`` (zero-shot tasks run the entry's own generator)."""
    if task in entry.zero_shot_tasks and task != entry.task:
        return AUTO_CLASS_BY_TASK[entry.task]
    return AUTO_CLASS_BY_TASK[task]
