"""The engine protocol, and loading a causal LM for the in-process engines (torch imported inside)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from wattsup.errors import InvalidInput, WattsupError

if TYPE_CHECKING:
    from wattsup.serving.load import LoadLevel, RequestRecord, Window
    from wattsup.serving.profiles import ServingRequest

__all__ = [
    "DTYPES",
    "ENGINES",
    "Engine",
    "EngineInfo",
    "EngineName",
    "LoadedModel",
    "ServedModel",
    "load_causal_lm",
]

ENGINES = ("static", "continuous", "http")
EngineName = Literal["static", "continuous", "http"]
DTYPES = ("auto", "float32", "float16", "bfloat16")


class ServedModel(BaseModel):
    """The model an engine serves, as its provenance records it."""

    model_config = ConfigDict(frozen=True)

    model: str
    weights_source: str
    tokenizer: str = ""
    parameters: int | None = None
    device: str = ""
    dtype: str = ""


class EngineInfo(ServedModel):
    """What served the load, for provenance: the model (:class:`ServedModel`) and the engine."""

    engine: EngineName
    base_url: str | None = None
    api: str | None = None
    cpu_scope: Literal["process", "machine"] = "process"
    prefill_decode: str = ""
    """How prefill and decode energy are separated, or why they are not."""
    notes: list[str] = []


class Engine(Protocol):
    """Serves one load level at a time. ``run_level`` drives the requests (submitting them as the level
    says), keeps ``window`` informed from the thread that holds the Meter, and returns one record per
    request, failed ones included."""

    name: EngineName

    def info(self) -> EngineInfo: ...

    def run_level(
        self, requests: list[ServingRequest], level: LoadLevel, window: Window, seed: int
    ) -> list[RequestRecord]: ...

    def close(self) -> None: ...


@dataclass
class LoadedModel:
    """A causal LM and its tokenizer on a device, for the in-process engines."""

    model: Any
    tokenizer: Any
    served: ServedModel
    max_positions: int | None
    pad_token_id: int
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.served.model

    @property
    def device(self) -> str:
        return self.served.device

    def info(self, engine: EngineName, prefill_decode: str, notes: list[str] | None = None) -> EngineInfo:
        """What an in-process engine over this model reports about itself."""
        return EngineInfo(
            **dict(self.served),
            engine=engine,
            prefill_decode=prefill_decode,
            notes=list(self.notes) if notes is None else notes,
        )

    def encode(self, req: ServingRequest) -> list[int]:
        """The request's prompt as token ids, cut to its drawn length."""
        ids = list(self.tokenizer(req.prompt, add_special_tokens=True)["input_ids"])
        return ids[: req.input_tokens]

    def check_fits(self, requests: list[ServingRequest]) -> None:
        if self.max_positions is None:
            return
        worst = max(r.input_tokens + r.max_new_tokens for r in requests)
        if worst > self.max_positions:
            raise InvalidInput(
                "max-input-tokens",
                f"{self.name} holds {self.max_positions} positions but a request needs {worst} (prompt + "
                "output); cap the profile with --max-input-tokens and --max-output-tokens",
            )


def _torch_dtype(name: str, device: str) -> Any:
    import torch

    if name not in DTYPES:
        raise InvalidInput("dtype", f"must be one of {', '.join(DTYPES)}, got {name!r}")
    if name == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    return getattr(torch, name)


def torch_threads() -> int:
    """torch's intra-op threads for the in-process engines, as the bench harness fixes them
    (:func:`wattsup.bench.protocol.torch_threads`: ``WATTSUP_TORCH_THREADS``, else the physical cores). On a
    shared host fewer threads than cores avoid OpenMP threads spinning at barriers while another process
    holds a core (measured here on a busy 2-core VM: 1 thread served a tiny model ~10× faster per token
    than 2)."""
    from wattsup.bench.protocol import torch_threads as harness_threads

    return harness_threads()


def load_causal_lm(spec: str, weights: str, device: str, dtype: str) -> LoadedModel:
    """A catalog model (random weights: the real architecture, no download), a local folder or a Hub id.
    Fixes torch's intra-op threads (:func:`torch_threads`; recorded in the result's provenance)."""
    import torch

    torch.set_num_threads(torch_threads())

    from wattsup.bench import catalog as cat
    from wattsup.bench.models import (
        load_config,
        load_model,
        load_tokenizer,
        num_parameters,
        resolve_model_source,
        weights_source,
    )

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidInput(
            "device", f"{device} asked for, but torch sees no CUDA device here; use --device cpu"
        )
    entry = cat.load_catalog().find(spec)
    task = (
        entry.task if entry is not None and entry.task in ("chat", "text-generation") else "text-generation"
    )
    src = resolve_model_source(spec, task, weights)
    config, model_type = load_config(src)
    tdtype = _torch_dtype(dtype, device)
    model = load_model(src, config, "AutoModelForCausalLM", device, dtype=tdtype)
    tok, tok_note = load_tokenizer(src, config, model_type)
    pad = tok.pad_token_id
    if pad is None:
        pad = tok.eos_token_id if tok.eos_token_id is not None else 0
    positions = None
    for key in ("max_position_embeddings", "n_positions"):
        value = getattr(config, key, None)
        if isinstance(value, int):
            positions = value
            break
    if model_type in ("bloom",):
        positions = None  # ALiBi: no position table
    if not hasattr(model, "generate"):
        raise WattsupError(f"{src.name} cannot generate text; give a causal LM")
    served = ServedModel(
        model=src.name,
        weights_source=weights_source(src),
        tokenizer=tok_note,
        parameters=num_parameters(model),
        device=device,
        dtype=str(tdtype).removeprefix("torch."),
    )
    return LoadedModel(
        model=model, tokenizer=tok, served=served, max_positions=positions, pad_token_id=int(pad)
    )
