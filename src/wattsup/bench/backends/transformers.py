"""The transformers backend: models from the Hub, a local folder or the catalog (random weights), their
tokenizers, image processors and feature extractors, and the calls ``forward``, ``prefill`` and
``generate``. torch and transformers are imported where they are used."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from wattsup.bench import catalog as cat
from wattsup.bench import models as mdl
from wattsup.bench.backends.base import BackendSettings, TorchBackend
from wattsup.bench.catalog import CatalogEntry
from wattsup.bench.models import ModelSource
from wattsup.records.settings import TransformersOptions


class TransformersSettings(TransformersOptions, BackendSettings):
    """The transformers backend's settings: device and dtype, and its own options (declared with the
    settings of the task families that run on it, :class:`wattsup.records.settings.TransformersOptions`)."""


class TransformersBackend(TorchBackend[TransformersSettings]):
    """One transformers model on one device in one dtype, in eval mode."""

    name: ClassVar[str] = "transformers"
    Settings: ClassVar[type[TransformersSettings]] = TransformersSettings

    def __init__(self, settings: TransformersSettings) -> None:
        super().__init__(settings)
        self.model_config: Any = None
        self.model_type = ""
        self._forward_params: frozenset[str] | None = None
        self._prefill: tuple[Any, Any] | None = None  # (a generation config, its one-token copy)

    # ------------------------------------------------------------------ loading
    def load(self, source: ModelSource, task: str, auto_class: Callable[[Any], str] | None = None) -> None:
        """The model for ``task``: its catalog entry's Auto class, else ``auto_class(config)`` (default:
        the task's)."""
        config, model_type = mdl.load_config(source)
        if source.entry is not None:
            name = cat.model_class_for(source.entry, task)
        elif auto_class is not None:
            name = auto_class(config)
        else:
            name = cat.AUTO_CLASS_BY_TASK[task]
        mdl.check_fits(config, name, source, task)
        self.model = mdl.load_model(
            source,
            config,
            name,
            self.settings.device,
            dtype=self.dtype,
            trust_remote_code=self.settings.trust_remote_code,
            attn_implementation=self.settings.attn_implementation,
        )
        self.model_config = self.model.config
        self.model_type = model_type
        self.provenance["weights"] = mdl.weights_source(source)
        self.provenance["parameters"] = str(self.num_parameters())

    def load_tokenizer(self, source: ModelSource) -> Any:
        tok, note = mdl.load_tokenizer(
            source, self.model_config, self.model_type, synthetic=self.settings.tokenizer == "synthetic"
        )
        self.provenance["tokenizer"] = note
        return tok

    def load_image_processor(self, source: ModelSource) -> Any:
        proc, note = mdl.load_image_processor(source, self.model_config, self.model_type)
        self.provenance["processor"] = note
        return proc

    def load_processor(self, source: ModelSource) -> Any | None:
        """The model's own multimodal processor (pretrained weights only), or None where it has none."""
        if source.weights != "pretrained":
            return None
        from transformers import AutoProcessor

        location = str(source.path) if source.path is not None else source.spec
        try:
            loader: Any = AutoProcessor
            proc = loader.from_pretrained(location)
        except Exception:  # models without a processor class fall back to the image processor alone
            return None
        self.provenance["processor"] = f"the model's own processor ({type(proc).__name__})"
        return proc

    def load_feature_extractor(self, source: ModelSource) -> Any:
        """An audio feature extractor: the model's own, or Whisper's defaults sized to the model."""
        if source.weights == "random":
            from transformers import WhisperFeatureExtractor

            extractor: Any = WhisperFeatureExtractor
            self.provenance["processor"] = "WhisperFeatureExtractor defaults sized to the model (no download)"
            return extractor(feature_size=int(self.model_config.num_mel_bins))
        from transformers import AutoFeatureExtractor

        location = str(source.path) if source.path is not None else source.spec
        try:
            loader: Any = AutoFeatureExtractor
            features = loader.from_pretrained(location)
        except Exception as e:
            raise mdl.pretrained_error(source, "feature extractor", e) from e
        self.provenance["processor"] = "the model's own feature extractor"
        return features

    def num_parameters(self) -> int:
        return mdl.num_parameters(self.model)

    # ------------------------------------------------------------------ calls
    def preprocess(self, encoded: Mapping[str, Any]) -> dict[str, Any]:
        """The tokenizer's or processor's outputs that the model's forward accepts, on the model's device,
        floating ones (pixel values, audio features) in its dtype."""
        accepted = self._accepted()
        out: dict[str, Any] = {}
        for k, v in dict(encoded).items():
            if k not in accepted:
                continue
            if hasattr(v, "is_floating_point") and v.is_floating_point():
                out[k] = v.to(self.device, self.dtype)
            elif hasattr(v, "to"):
                out[k] = v.to(self.device)
            else:
                out[k] = v
        return out

    def _accepted(self) -> frozenset[str]:
        # inspect.signature costs ~0.1-1 ms: once per model, not once per inference (it is in the
        # metered window).
        if self._forward_params is None:
            params = inspect.signature(self.model.forward).parameters
            names = set(params)
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
                names |= {"input_ids", "attention_mask", "pixel_values"}
            self._forward_params = frozenset(names)
        return self._forward_params

    def forward(self, inputs: dict[str, Any]) -> Any:
        return self.model(**inputs)

    def generation_config(self, max_new_tokens: int, **overrides: Any) -> Any:
        """:func:`fixed_length_generation_config` of this model; the tokenizer is given as ``tokenizer=``."""
        return fixed_length_generation_config(self.model, max_new_tokens, **overrides)

    def prefill(self, inputs: dict[str, Any], generation: Any) -> Any:
        """``generate`` of one new token with ``generation``'s other settings."""
        if self._prefill is None or self._prefill[0] is not generation:
            one = copy.deepcopy(generation)
            one.max_new_tokens = one.min_new_tokens = 1
            self._prefill = (generation, one)
        return self.model.generate(**inputs, generation_config=self._prefill[1])

    def generate(self, inputs: dict[str, Any], generation: Any) -> Any:
        return self.model.generate(**inputs, generation_config=generation)


def fixed_length_generation_config(
    model: Any, max_new_tokens: int, tokenizer: Any = None, **overrides: Any
) -> Any:
    """A deep copy of ``model``'s generation config made greedy and fixed-length (min = max new tokens, so
    EOS never stops a sequence early; ``num_beams`` 1 unless overridden), with pad/eos/decoder-start ids
    filled in from ``tokenizer`` where the model has none; ``overrides`` are set last. The bench's
    generation tasks and the serving static engine both generate with it."""
    from transformers import GenerationConfig

    gc = copy.deepcopy(model.generation_config)
    config = getattr(model, "config", None)
    pad = getattr(tokenizer, "pad_token_id", None)
    eos = getattr(tokenizer, "eos_token_id", None)
    updates: dict[str, Any] = {
        "max_new_tokens": max_new_tokens,
        "min_new_tokens": max_new_tokens,
        "do_sample": False,
        "num_beams": 1,
        "max_length": None,
        # unset (the library's default: 0 before transformers 5, None since), so that min_new_tokens alone
        # sets the minimum and generate() does not warn, on every call, that both are set
        "min_length": GenerationConfig().min_length,  # type: ignore[no-untyped-call]
        "early_stopping": False,
        "length_penalty": 1.0,
        "no_repeat_ngram_size": 0,
    }
    if getattr(gc, "pad_token_id", None) is None and (pad is not None or eos is not None):
        updates["pad_token_id"] = pad if pad is not None else eos
    if getattr(gc, "eos_token_id", None) is None and eos is not None:
        updates["eos_token_id"] = eos
    if (
        getattr(config, "is_encoder_decoder", False)
        and gc.decoder_start_token_id is None
        and getattr(gc, "bos_token_id", None) is None
    ):
        start = getattr(config, "decoder_start_token_id", None)
        updates["decoder_start_token_id"] = start if start is not None else updates.get("pad_token_id", pad)
    updates.update(overrides)
    for k, v in updates.items():
        setattr(gc, k, v)
    return gc


def count_parameters(entry: CatalogEntry) -> int:
    """The parameter count of a (non-diffusion) catalog entry built on the ``meta`` device, the way its
    published count was taken: the base model (``AutoModel``) for the study's entries, the task model for
    the others."""
    config = cat.build_config(entry)
    name = "AutoModel" if entry.count_model == "base" else cat.AUTO_CLASS_BY_TASK[entry.task]
    try:
        model = cat.model_from_config(config, name, device="meta")
    except ValueError:  # no base class for this architecture (an encoder-decoder pair): count the task model
        model = cat.model_from_config(config, cat.AUTO_CLASS_BY_TASK[entry.task], device="meta")
    return sum(p.numel() for p in model.parameters())
