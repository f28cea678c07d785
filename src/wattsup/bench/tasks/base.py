"""What every task shares: the Task interface, model loading, phase helpers and the prefill/decode split.

A task owns preprocessing, the model call and postprocessing of one batch, each inside a named phase
(``preprocess``, ``forward`` or ``generate`` with ``prefill``/``decode``, ``postprocess``; the diffusion
task meters its denoising loop). ``phase`` is :meth:`wattsup.meter.Meter.phase` while metered and a
no-op during warm-up.
"""

from __future__ import annotations

import copy
import inspect
import io
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, ClassVar

from wattsup.bench import models as mdl
from wattsup.bench.catalog import model_class_for
from wattsup.bench.models import ModelSource
from wattsup.errors import InvalidInput
from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.results.schema import RunConfig

PhaseFn = Callable[[str], AbstractContextManager[Any]]

DTYPES = ("float32", "float16", "bfloat16")
DECODE_NOTE = (
    "decode = generate - prefill (AI Energy Score): prefill is a separate generate() of one new token "
    "on the same input; the window's totals leave that extra pass out"
)


def no_phase(name: str) -> AbstractContextManager[None]:
    """The phase function of unmetered work (warm-up)."""
    return nullcontext()


@dataclass
class BatchResult:
    """What one batch produced: output units (tokens, images) and time spent outside the inference proper."""

    units: int
    excluded_s: float = 0.0
    outputs: list[Any] = field(default_factory=list)


class Task(ABC):
    """One task family. Subclasses set the class attributes and implement :meth:`prepare` and :meth:`run`."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str]
    fields: ClassVar[tuple[str, ...]] = ("text",)
    unit: ClassVar[str] = "input token"
    default_max_new_tokens: ClassVar[int | None] = None
    in_study: ClassVar[bool] = True

    def __init__(self, config: RunConfig) -> None:
        import torch

        if config.dtype not in DTYPES:
            raise InvalidInput("dtype", f"must be one of {', '.join(DTYPES)}, got {config.dtype!r}")
        self.config = config
        self.device = torch.device(config.device)
        self.dtype = getattr(torch, config.dtype)
        self.model: Any = None
        self.model_config: Any = None
        self.model_type = ""
        self.source: ModelSource | None = None
        self.provenance: dict[str, str] = {}

    # ------------------------------------------------------------------ configuration
    @property
    def max_new_tokens(self) -> int:
        n = self.config.max_new_tokens or self.default_max_new_tokens
        return int(n or 1)

    @property
    def model_task(self) -> str:
        """The catalog task the model must fit (the task itself, or for zero-shot runs, the same task)."""
        return self.name

    def extra(self, key: str, default: Any = None) -> Any:
        return self.config.extra.get(key, default)

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        """Resolve, build or load the model and whatever prepares its inputs (metered as the load phase)."""
        src = mdl.resolve_model_source(self.config.model, self.model_task, self.config.weights)
        self.source = src
        config, model_type = mdl.load_config(src)
        auto = (
            model_class_for(src.entry, self.model_task)
            if src.entry is not None
            else self.auto_class_for(config)
        )
        mdl.check_fits(config, auto, src, self.model_task)
        self.model = mdl.load_model(
            src,
            config,
            auto,
            self.config.device,
            dtype=self.dtype,
            trust_remote_code=bool(self.extra("trust_remote_code", False)),
        )
        self.model_config = self.model.config
        self.model_type = model_type
        self.provenance["weights"] = mdl.weights_source(src)
        self.provenance["parameters"] = str(mdl.num_parameters(self.model))
        self.prepare(src)

    def auto_class_for(self, config: Any) -> str:
        from wattsup.bench.catalog import AUTO_CLASS_BY_TASK

        return AUTO_CLASS_BY_TASK[self.name]

    def prepare(self, src: ModelSource) -> None:
        """Load the tokenizer or processor. The default: a tokenizer."""
        self.tokenizer, note = mdl.load_tokenizer(
            src, self.model_config, self.model_type, synthetic=self.extra("tokenizer") == "synthetic"
        )
        self.provenance["tokenizer"] = note

    # ------------------------------------------------------------------ running
    @abstractmethod
    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        """Process one batch inside its phases; return the output units it produced."""

    def finalize(self, m: Measurement) -> Measurement:
        """Turn a repetition's raw window into the recorded one (generative tasks derive ``decode``)."""
        return m

    # ------------------------------------------------------------------ helpers
    def model_inputs(self, enc: Any) -> dict[str, Any]:
        """The tokenizer's outputs the model's forward accepts, on the model's device."""
        accepted = self._forward_params()
        out = {}
        for k, v in dict(enc).items():
            if k in accepted:
                out[k] = v.to(self.device) if hasattr(v, "to") else v
        return out

    def _forward_params(self) -> frozenset[str]:
        # inspect.signature costs ~0.1-1 ms: once per model, not once per inference (it is in the
        # metered window).
        cached: frozenset[str] | None = getattr(self, "_forward_params_cache", None)
        if cached is None:
            params = inspect.signature(self.model.forward).parameters
            names = set(params)
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
                names |= {"input_ids", "attention_mask", "pixel_values"}
            cached = frozenset(names)
            self._forward_params_cache = cached
        return cached

    def tokenize(self, texts: list[str] | str, pair: list[str] | None = None, **kw: Any) -> Any:
        return self.tokenizer(texts, pair, truncation=True, padding=True, return_tensors="pt", **kw)


def decode_image(data: Any) -> Any:
    """A PIL RGB image from encoded bytes (or an image already decoded)."""
    from PIL import Image

    if isinstance(data, bytes | bytearray):
        return Image.open(io.BytesIO(data)).convert("RGB")
    return data.convert("RGB")


def float_inputs(enc: dict[str, Any], dtype: Any) -> dict[str, Any]:
    """Cast floating tensors (pixel values, audio features) to the model's dtype."""
    return {
        k: (v.to(dtype) if hasattr(v, "is_floating_point") and v.is_floating_point() else v)
        for k, v in enc.items()
    }


class GenerativeTask(Task):
    """A task that calls ``generate``: fixed output length (min = max new tokens, EOS never ends it early),
    greedy by default, metered as ``generate`` = ``prefill`` + ``decode``."""

    unit: ClassVar[str] = "generated token"
    default_max_new_tokens: ClassVar[int | None] = 10
    decoder_only: bool = False

    @property
    def prefill_pass(self) -> bool:
        return bool(self.extra("prefill_decode", True)) and self.max_new_tokens > 1

    def generation_config(self) -> Any:
        gc = copy.deepcopy(self.model.generation_config)
        n = self.max_new_tokens
        tok = getattr(self, "tokenizer", None)
        pad = getattr(tok, "pad_token_id", None)
        eos = getattr(tok, "eos_token_id", None)
        updates: dict[str, Any] = {
            "max_new_tokens": n,
            "min_new_tokens": n,
            "do_sample": False,
            "num_beams": int(self.extra("num_beams", 1)),
            "max_length": None,
            "min_length": 0,
            "early_stopping": False,
            "length_penalty": 1.0,
            "no_repeat_ngram_size": 0,
        }
        if getattr(gc, "pad_token_id", None) is None and (pad is not None or eos is not None):
            updates["pad_token_id"] = pad if pad is not None else eos
        if getattr(gc, "eos_token_id", None) is None and eos is not None:
            updates["eos_token_id"] = eos
        if (
            getattr(self.model_config, "is_encoder_decoder", False)
            and gc.decoder_start_token_id is None
            and getattr(gc, "bos_token_id", None) is None
        ):
            start = getattr(self.model_config, "decoder_start_token_id", None)
            updates["decoder_start_token_id"] = (
                start if start is not None else updates.get("pad_token_id", pad)
            )
        for k, v in updates.items():
            setattr(gc, k, v)
        return gc

    def generate(self, inputs: dict[str, Any], phase: PhaseFn) -> tuple[Any, float]:
        """``generate`` inside its phases; returns the output ids and the seconds of the extra prefill."""
        gc = getattr(self, "_gc", None)
        if gc is None:
            gc = self._gc = self.generation_config()
        excluded = 0.0
        if self.prefill_pass:
            one = copy.deepcopy(gc)
            one.max_new_tokens = one.min_new_tokens = 1
            t0 = time.perf_counter()
            with phase("prefill"):
                self.model.generate(**inputs, generation_config=one)
            excluded = time.perf_counter() - t0
            with phase("generate"):
                out = self.model.generate(**inputs, generation_config=gc)
        else:
            with phase("generate"), phase("prefill"):
                out = self.model.generate(**inputs, generation_config=gc)
        return out, excluded

    def new_tokens(self, out: Any, input_len: int) -> int:
        seqs = out.sequences if hasattr(out, "sequences") else out
        per_row = seqs.shape[-1] - (input_len if self.decoder_only else 1)
        return int(per_row) * int(seqs.shape[0])

    def finalize(self, m: Measurement) -> Measurement:
        return derive_decode(m)


def _minus(a: Measurement, b: Measurement, name: str, note: str) -> Measurement:
    theirs = {c.name: c for c in b.components}
    comps = []
    for c in a.components:
        o = theirs.get(c.name)
        if o is None:
            comps.append(c)
            continue
        comps.append(
            ComponentEnergy(
                name=c.name,
                energy_j=c.energy_j - o.energy_j,
                method=c.method,
                error_bound_j=c.error_bound_j + o.error_bound_j,
                detail=f"{c.detail}; {note}".strip("; "),
            )
        )
    return Measurement(
        name=name,
        start_s=a.start_s,
        duration_s=max(a.duration_s - b.duration_s, 0.0),
        components=comps,
        phases=[],
        timeline=None,
        warnings=list(a.warnings),
    )


def derive_decode(m: Measurement) -> Measurement:
    """Rewrite a window holding top-level ``prefill`` (the separate one-token pass) and ``generate`` phases
    into one whose ``generate`` phase holds ``prefill`` and ``decode`` = generate - prefill, and whose totals
    leave the extra pass out. A window without both phases (or already nested) is returned unchanged."""
    top = {p.name: p for p in m.phases}
    if "prefill" not in top or "generate" not in top or top["generate"].phases:
        return m
    prefill, gen = top["prefill"], top["generate"]
    decode = _minus(gen, prefill, "decode", "decode = generate - prefill")
    new_gen = gen.model_copy(update={"phases": [prefill, decode]})
    phases = [new_gen if p.name == "generate" else p for p in m.phases if p.name != "prefill"]
    root = _minus(m, prefill, m.name, "without the separate prefill pass")
    return root.model_copy(update={"phases": phases, "warnings": [*m.warnings, DECODE_NOTE]})
