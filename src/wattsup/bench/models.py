"""Model resolution: a Hub id (online, or from the local Hugging Face cache), a local directory, or
``weights="random"``: the real architecture built from the packaged catalog with no download at all.

``trust_remote_code`` is never enabled implicitly: a model that needs it must be asked for with
``extra={"trust_remote_code": True}`` in its RunConfig. Loading itself is the backends' work
(:mod:`wattsup.bench.backends`); the transformers helpers they share are here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from wattsup.bench import catalog as cat
from wattsup.bench.catalog import CatalogEntry
from wattsup.bench.inputs import local_path
from wattsup.bench.tokenizer import SYNTHETIC_TOKENIZER
from wattsup.errors import InvalidInput, NotFound, WattsupError

IMAGE_PROCESSOR_FALLBACK = {"convnextv2": "convnext", "resnet": "convnext", "regnet": "convnext"}


@dataclass(frozen=True)
class ModelSource:
    """Where a model comes from. ``entry`` is its catalog entry, when it has one."""

    spec: str
    kind: Literal["catalog", "local", "hub"]
    weights: Literal["pretrained", "random"]
    entry: CatalogEntry | None = None
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.entry.id if self.entry is not None else self.spec


def resolve_model_source(spec: str, task: str, weights: str) -> ModelSource:
    """Check that ``spec`` names a model that can run ``task`` with ``weights``; say where it comes from."""
    if weights not in ("pretrained", "random"):
        raise InvalidInput("weights", f"must be 'pretrained' or 'random', got {weights!r}")
    path = local_path(spec)
    catalog = cat.load_catalog()
    entry = catalog.find(spec)
    if entry is not None and not entry.supports(task):
        fits = [e.id for e in catalog.for_task(task)][:8]
        raise InvalidInput(
            "model",
            f"{entry.id} is a {entry.task} model; it does not fit task {task!r}. "
            f"Models for {task}: {', '.join(fits)}",
        )
    if path is not None and path.is_dir():
        if not (path / "config.json").exists() and not (path / "model_index.json").exists():
            raise InvalidInput(
                "model", f"{path} holds no config.json (nor model_index.json): not a model folder"
            )
        return ModelSource(spec, "local", weights, entry, path)  # type: ignore[arg-type]
    if weights == "random":
        if entry is None:
            raise NotFound(
                "model",
                spec,
                [e.id for e in catalog.for_task(task)] or [e.id for e in catalog],
                hint="Random weights need a catalog entry (see 'wattsup models') or a local folder "
                "with a config.json.",
            )
        if not entry.random_weights:
            raise InvalidInput("weights", f"{entry.id}: {entry.parameters_exception}")
        return ModelSource(spec, "catalog", "random", entry)
    if entry is None and "/" not in spec:
        raise NotFound(
            "model",
            spec,
            [e.id for e in catalog.for_task(task)] or [e.id for e in catalog],
            hint="Give a Hub id (owner/name), a local folder, or a catalog name.",
        )
    return ModelSource(spec, "hub", "pretrained", entry)


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")


def pretrained_error(src: ModelSource, what: str, err: Exception) -> WattsupError:
    where = str(src.path) if src.path else src.spec
    hint = ""
    if hub_offline() and src.kind == "hub":
        hint = (
            " HF_HUB_OFFLINE is set and it is not in the local Hugging Face cache: download it first, "
            "or run with --weights random for its catalog architecture."
        )
    return WattsupError(f"could not load the {what} of {where}: {type(err).__name__}: {err}.{hint}")


def load_config(src: ModelSource) -> tuple[Any, str]:
    """The model's configuration, and the model_type it was built from."""
    if src.kind == "catalog":
        assert src.entry is not None
        return cat.build_config(src.entry), src.entry.model_type
    from transformers import AutoConfig

    location = str(src.path) if src.path is not None else src.spec
    try:
        config = AutoConfig.from_pretrained(location, trust_remote_code=False)
    except Exception as e:  # OSError, ValueError for unknown model types, HTTP errors
        raise pretrained_error(src, "configuration", e) from e
    return config, str(config.model_type)


def check_fits(config: Any, auto_class_name: str, src: ModelSource, task: str) -> None:
    """Raise an error naming the model and task when the Auto class has no architecture for this config."""
    cls = cat.auto_class(auto_class_name)
    mapping = getattr(cls, "_model_mapping", None)
    if mapping is not None and type(config) not in mapping:
        raise InvalidInput(
            "model",
            f"{src.name} ({config.model_type}) has no {auto_class_name[9:] or 'base'} "
            f"architecture in transformers; it does not fit task {task!r}",
        )


def load_model(
    src: ModelSource,
    config: Any,
    auto_class_name: str,
    device: str,
    *,
    dtype: Any,
    trust_remote_code: bool = False,
    attn_implementation: str | None = None,
) -> Any:
    """The model on ``device`` in ``dtype``, in eval mode: random weights built in place, or pretrained.
    ``attn_implementation`` (``eager``, ``sdpa``, ...) picks the attention kernel; None: transformers'
    default for the model."""
    import torch

    kwargs: dict[str, Any] = {}
    if attn_implementation is not None:
        kwargs["attn_implementation"] = attn_implementation
    if src.weights == "random":
        torch_device = torch.device(device)
        model = cat.model_from_config(config, auto_class_name, device=torch_device, dtype=dtype, **kwargs)
    else:
        cls = cat.auto_class(auto_class_name)
        location = str(src.path) if src.path is not None else src.spec
        try:
            model = cls.from_pretrained(location, dtype=dtype, trust_remote_code=trust_remote_code, **kwargs)
        except Exception as e:
            raise pretrained_error(src, "weights", e) from e
        model = model.to(device)
    model.eval()
    return model


def weights_source(src: ModelSource) -> str:
    if src.weights == "random":
        where = f"catalog config of {src.entry.id}" if src.entry is not None else f"config.json in {src.path}"
        return f"random weights ({where}; no download)"
    if src.kind == "local":
        return f"local folder {src.path}"
    return f"hub {src.spec}" + (" (offline cache)" if hub_offline() else "")


TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "vocab.txt",
    "vocab.json + merges.txt",
)
"""What a saved tokenizer leaves in a model folder (any one of them; ``tokenizer_config.json`` alone
describes a tokenizer but holds no vocabulary)."""


def missing_tokenizer(path: Path) -> bool:
    """Whether the model folder ``path`` holds no tokenizer files (see :data:`TOKENIZER_FILES`)."""
    return not any(all((path / part).is_file() for part in name.split(" + ")) for name in TOKENIZER_FILES)


def check_local_tokenizer(src: ModelSource, synthetic: bool) -> None:
    """A local pretrained model folder without tokenizer files fails here, naming what is missing and
    the two ways on, instead of deep inside transformers."""
    if src.kind != "local" or src.weights == "random" or synthetic or src.path is None:
        return
    if missing_tokenizer(src.path):
        raise InvalidInput(
            "--model",
            f"{src.path} holds a model but no tokenizer (none of {', '.join(TOKENIZER_FILES)}). Save the "
            "tokenizer beside it (tokenizer.save_pretrained(folder)), or run with --tokenizer synthetic "
            "for wattsup's synthetic tokenizer sized to the model's vocabulary",
        )


def load_tokenizer(
    src: ModelSource, config: Any, model_type: str, *, synthetic: bool = False
) -> tuple[Any, str]:
    """A tokenizer and a provenance note: the model's own, or the synthetic one for random weights (or
    when asked for: ``--tokenizer synthetic``)."""
    if src.weights == "random" or synthetic:
        from wattsup.bench import tokenizer

        note = (
            SYNTHETIC_TOKENIZER
            if src.weights == "random"
            else f"{SYNTHETIC_TOKENIZER} (--tokenizer synthetic)"
        )
        return tokenizer.for_config(config, model_type), note
    check_local_tokenizer(src, synthetic)
    from transformers import AutoTokenizer

    location = str(src.path) if src.path is not None else src.spec
    try:
        tok = AutoTokenizer.from_pretrained(location, trust_remote_code=False)
    except Exception as e:
        raise pretrained_error(src, "tokenizer", e) from e
    return tok, f"the model's own tokenizer ({type(tok).__name__})"


def vision_config_of(config: Any) -> Any:
    for key in ("vision_config", "encoder"):
        sub = getattr(config, key, None)
        if sub is not None and hasattr(sub, "image_size"):
            return sub
    return config


def load_image_processor(src: ModelSource, config: Any, model_type: str) -> tuple[Any, str]:
    """The image processor: the model's own, or the transformers default for its architecture sized to it."""
    if src.weights != "random":
        from transformers import AutoImageProcessor

        location = str(src.path) if src.path is not None else src.spec
        try:
            loader: Any = AutoImageProcessor
            return loader.from_pretrained(location), "the model's own image processor"
        except Exception as e:
            raise pretrained_error(src, "image processor", e) from e
    import transformers
    from transformers.models.auto.auto_mappings import IMAGE_PROCESSOR_MAPPING_NAMES

    vision = vision_config_of(config)
    key = str(getattr(vision, "model_type", model_type))
    if model_type in ("blip", "blip-2", "git"):
        key = model_type
    key = IMAGE_PROCESSOR_FALLBACK.get(key, key)
    names = IMAGE_PROCESSOR_MAPPING_NAMES.get(key) or IMAGE_PROCESSOR_MAPPING_NAMES["vit"]
    cls_name = names.get("torchvision") if _has_torchvision() and names.get("torchvision") else names["pil"]
    assert cls_name is not None
    cls = getattr(transformers, cls_name)
    proc = cls()
    overrides = dict(src.entry.processor) if src.entry is not None else {}
    size = overrides.pop("size", None)
    image_size = getattr(vision, "image_size", None)
    if size is None and isinstance(image_size, int):
        size = image_size
    kwargs: dict[str, Any] = dict(overrides)
    if isinstance(size, int):
        if getattr(proc.size, "height", None):
            kwargs["size"] = {"height": size, "width": size}
            if getattr(proc, "crop_size", None) is not None:
                kwargs["crop_size"] = {"height": size, "width": size}
        elif getattr(proc.size, "shortest_edge", None) and getattr(proc.size, "longest_edge", None) is None:
            kwargs["size"] = {"shortest_edge": size}
            if getattr(proc, "crop_size", None) is not None:
                kwargs["crop_size"] = {"height": size, "width": size}
    elif isinstance(size, dict):
        kwargs["size"] = size
    return cls(**kwargs), f"{cls_name} with transformers defaults for {key} (no download)"


def _has_torchvision() -> bool:
    import importlib.util

    return importlib.util.find_spec("torchvision") is not None


def num_parameters(model: Any) -> int:
    return int(sum(p.numel() for p in model.parameters()))
