"""What every task shares: the Task interface (a task is a *scenario*), its typed settings, and the
prefill/decode split.

A task says what its inputs are (``fields``), how one batch goes through its backend's calls inside named
phases (``preprocess``, ``forward`` or ``generate`` with ``prefill``/``decode``, ``postprocess``; the
diffusion task meters its denoising loop), and what its output unit is (``unit``: input tokens, generated
tokens, images). Loading the model and the model calls are the backend's (:mod:`wattsup.bench.backends`):
``transformers`` for every task but text-to-image, ``diffusers`` for it. ``phase`` is
:meth:`wattsup.meter.Meter.phase` while metered and :func:`no_phase` during warm-up.

A RunConfig's ``settings`` hold both parts' settings in one model per task family
(:mod:`wattsup.records.settings`): the scenario's and the backend's (its ``Settings`` takes its share of
them, with the RunConfig's device and dtype). A key that neither takes is refused when the RunConfig is made.
"""

from __future__ import annotations

import io
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from wattsup.bench.backends import make_backend, settings_class
from wattsup.bench.backends.base import (
    DTYPES,
    Backend,
    BackendSettings,
    GenerativeBackend,
    PhaseFn,
    no_phase,
)
from wattsup.bench.backends.transformers import TransformersBackend
from wattsup.bench.models import ModelSource, resolve_model_source
from wattsup.errors import InvalidInput
from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.records import RunConfig
from wattsup.records.settings import AnySettings, EncoderSettings, GenerativeSettings, InputSettings

DECODE_NOTE = (
    "decode = generate - prefill (AI Energy Score): prefill is a separate generate() of one new token "
    "on the same input; the window's totals leave that extra pass out"
)


@dataclass
class BatchResult:
    """What one batch produced: output units (tokens, images) and time spent outside the inference proper."""

    units: int
    excluded_s: float = 0.0
    outputs: list[Any] = field(default_factory=list)


class Task(ABC):
    """One task family: a scenario run on a backend. Subclasses set the class attributes and implement
    :meth:`run` (and :meth:`prepare` where they need more than a tokenizer)."""

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str]
    fields: ClassVar[tuple[str, ...]] = ("text",)
    unit: ClassVar[str] = "input token"
    default_max_new_tokens: ClassVar[int | None] = None
    in_study: ClassVar[bool] = True
    backend_name: ClassVar[str] = "transformers"
    Settings: ClassVar[type[AnySettings]] = EncoderSettings

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.settings, backend_settings = self.settings_for(config)
        self.backend: Backend = make_backend(self.backend_name, backend_settings)
        self.source: ModelSource | None = None

    @classmethod
    def settings_for(cls, config: RunConfig) -> tuple[InputSettings, BackendSettings]:
        """The scenario's settings (the RunConfig's, of this task's family) and the backend's (its share of
        them, with the device and dtype), checked: a bad dtype or settings of another family is an
        InvalidInput that says what is allowed."""
        if config.dtype not in DTYPES:
            raise InvalidInput("dtype", f"must be one of {', '.join(DTYPES)}, got {config.dtype!r}")
        settings = config.settings
        if not isinstance(settings, InputSettings) or not isinstance(settings, cls.Settings):
            wanted = cls.Settings.model_fields["family"].default
            raise InvalidInput(
                "extra",
                f"{cls.name} ({config.mode}) takes {wanted} settings, not {settings.family} ones: "
                "make the configuration again from its task, model and settings",
            )
        backend_cls = settings_class(cls.backend_name)
        backend = backend_cls.model_validate(
            {k: getattr(settings, k) for k in backend_cls.extra_keys()}
            | {"device": config.device, "dtype": config.dtype}
        )
        return settings, backend

    # ------------------------------------------------------------------ what the backend loaded
    @property
    def model(self) -> Any:
        return self.backend.model

    @property
    def model_config(self) -> Any:
        return getattr(self.backend, "model_config", None)

    @property
    def model_type(self) -> str:
        return str(getattr(self.backend, "model_type", ""))

    @property
    def provenance(self) -> dict[str, str]:
        """weights, parameters, tokenizer, processor: the backend's notes of what it loaded."""
        return self.backend.provenance

    # ------------------------------------------------------------------ configuration
    @property
    def max_new_tokens(self) -> int:
        n = self.config.max_new_tokens or self.default_max_new_tokens
        return int(n or 1)

    @property
    def model_task(self) -> str:
        """The catalog task the model must fit (the task itself, or for zero-shot runs, the same task)."""
        return self.name

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        """Resolve the model, have the backend build or load it, then :meth:`prepare` whatever prepares
        its inputs (metered as the load phase)."""
        src = resolve_model_source(self.config.model, self.model_task, self.config.weights)
        self.source = src
        self.load_model(src)
        self.prepare(src)

    def load_model(self, src: ModelSource) -> None:
        self.backend.load(src, self.model_task)

    def prepare(self, src: ModelSource) -> None:
        """Load the tokenizer or processor. The default: a tokenizer."""
        self.tokenizer = self.hf.load_tokenizer(src)

    @property
    def hf(self) -> TransformersBackend:
        """The backend of a task that runs on transformers (its tokenizer and processor loaders)."""
        if not isinstance(self.backend, TransformersBackend):
            raise TypeError(f"{self.name} runs on the {self.backend_name} backend, not transformers")
        return self.backend

    # ------------------------------------------------------------------ running
    @abstractmethod
    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        """Process one batch inside its phases; return the output units it produced."""

    def finalize(self, m: Measurement) -> Measurement:
        """Turn a repetition's raw window into the recorded one (generative tasks derive ``decode``)."""
        return m

    # ------------------------------------------------------------------ helpers
    def model_inputs(self, enc: Any) -> dict[str, Any]:
        """The tokenizer's or processor's outputs the model takes, on its device (the backend's
        :meth:`~wattsup.bench.backends.base.Backend.preprocess`)."""
        return self.backend.preprocess(enc)

    def tokenize(self, texts: list[str] | str, pair: list[str] | None = None, **kw: Any) -> Any:
        return self.tokenizer(texts, pair, truncation=True, padding=True, return_tensors="pt", **kw)


class TextLogitsTask(Task):
    """A task of one forward pass over the batch's ``text``: tokenised (``preprocess``), run through the
    model (``forward``), its :meth:`outputs` made from the encoding and the logits (``postprocess``); the
    unit is the input tokens."""

    def run(self, batch: list[dict[str, Any]], phase: PhaseFn) -> BatchResult:
        with phase("preprocess"):
            enc = self.tokenize([ex["text"] for ex in batch])
            inputs = self.model_inputs(enc)
        with phase("forward"):
            logits = self.backend.forward(inputs).logits
        with phase("postprocess"):
            out = self.outputs(enc, logits)
        return BatchResult(units=int(enc["attention_mask"].sum()), outputs=out)

    @abstractmethod
    def outputs(self, enc: Any, logits: Any) -> list[Any]:
        """One output per example of the batch, from its encoding and the model's logits."""


def decode_image(data: Any) -> Any:
    """A PIL RGB image from encoded bytes (or an image already decoded)."""
    from PIL import Image

    if isinstance(data, bytes | bytearray):
        return Image.open(io.BytesIO(data)).convert("RGB")
    return data.convert("RGB")


class GenerativeTask(Task):
    """A task that calls ``generate``: fixed output length (min = max new tokens, EOS never ends it early),
    greedy by default, metered as ``generate`` = ``prefill`` + ``decode``."""

    unit: ClassVar[str] = "generated token"
    default_max_new_tokens: ClassVar[int | None] = 10
    Settings: ClassVar[type[AnySettings]] = GenerativeSettings
    decoder_only: bool = False

    @property
    def generation(self) -> GenerativeSettings:
        assert isinstance(self.settings, GenerativeSettings)
        return self.settings

    @property
    def generator(self) -> GenerativeBackend:
        assert isinstance(self.backend, GenerativeBackend)
        return self.backend

    @property
    def prefill_pass(self) -> bool:
        return self.generation.prefill_decode and self.max_new_tokens > 1

    def generation_overrides(self) -> dict[str, Any]:
        """Settings of the backend's generation config that this task sets (beyond length and beams)."""
        return {}

    def generation_config(self) -> Any:
        return self.generator.generation_config(
            self.max_new_tokens,
            tokenizer=getattr(self, "tokenizer", None),
            num_beams=self.generation.num_beams,
            **self.generation_overrides(),
        )

    def generate(self, inputs: dict[str, Any], phase: PhaseFn) -> tuple[Any, float]:
        """The backend's ``prefill`` and ``generate`` inside their phases; returns the output ids and the
        seconds of the extra prefill pass."""
        gc = getattr(self, "_gc", None)
        if gc is None:
            gc = self._gc = self.generation_config()
        excluded = 0.0
        if self.prefill_pass:
            t0 = time.perf_counter()
            with phase("prefill"):
                self.generator.prefill(inputs, gc)
            excluded = time.perf_counter() - t0
            with phase("generate"):
                out = self.generator.generate(inputs, gc)
        else:
            with phase("generate"), phase("prefill"):
                out = self.generator.generate(inputs, gc)
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
        diff = c.energy_j - o.energy_j
        # a difference of two measured figures can fall below zero within their bounds (a short pass
        # measured high): the energy cannot, and the bound keeps what the difference said
        said = f"{note}; the difference was {diff:.3g} J, within the bounds: 0 J kept" if diff < 0 else note
        comps.append(
            ComponentEnergy(
                name=c.name,
                energy_j=max(diff, 0.0),
                method=c.method,
                error_bound_j=max(c.error_bound_j + o.error_bound_j, -diff),
                detail=f"{c.detail}; {said}".strip("; "),
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


__all__ = [
    "DECODE_NOTE",
    "DTYPES",
    "BatchResult",
    "GenerativeTask",
    "PhaseFn",
    "Task",
    "decode_image",
    "derive_decode",
    "no_phase",
]
