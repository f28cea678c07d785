"""What a backend is: the library that loads a model and runs its calls, with typed settings of its own.

A benchmark is a scenario × a backend (as in optimum-benchmark). The scenario (a task module in
:mod:`wattsup.bench.tasks`) says what the inputs are, how a batch goes through the backend's calls and
inside which phases, and what the output unit is (input tokens, generated tokens, images). The backend
(:mod:`wattsup.bench.backends.transformers`, :mod:`wattsup.bench.backends.diffusers`) owns loading the
model and its preprocessors, putting inputs on the device, and the model calls themselves: ``forward``,
and for generative models ``prefill`` (one new token) and ``generate``.

Nothing here imports torch at import time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from wattsup.bench.models import ModelSource

PhaseFn = Callable[[str], AbstractContextManager[Any]]
"""A phase of the metered window (:meth:`wattsup.meter.Meter.phase`), or :func:`no_phase` unmetered."""

DTYPES = ("float32", "float16", "bfloat16")
Dtype = Literal["float32", "float16", "bfloat16"]


def no_phase(name: str) -> AbstractContextManager[None]:
    """The phase function of unmetered work (warm-up)."""
    return nullcontext()


class BackendSettings(BaseModel):
    """What every backend is told: the device and the dtype (the RunConfig's own fields). A backend's
    settings subclass adds its own, which a RunConfig gives in ``extra``; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str = "cpu"
    dtype: Dtype = "float32"

    @classmethod
    def extra_keys(cls) -> frozenset[str]:
        """The settings this backend takes from a RunConfig's ``extra`` (all but device and dtype)."""
        return frozenset(cls.model_fields) - set(BackendSettings.model_fields)


SettingsT = TypeVar("SettingsT", bound=BackendSettings)


class TorchBackend(Generic[SettingsT]):
    """What the torch backends share: their settings, the device and the dtype as torch's objects, the
    notes of what they loaded and the model (None before ``load``)."""

    def __init__(self, settings: SettingsT) -> None:
        import torch

        self.settings = settings
        self.device = torch.device(settings.device)
        self.dtype = getattr(torch, settings.dtype)
        self.provenance: dict[str, str] = {}
        self.model: Any = None


@runtime_checkable
class Backend(Protocol):
    """A model library as the scenarios see it. Every method's inputs are already the backend's own (a
    tokenizer's or processor's output, a pipeline's latents); what it returns is the library's output."""

    name: ClassVar[str]
    settings: BackendSettings
    provenance: dict[str, str]
    """weights, parameters, tokenizer, processor: where each came from, for the run's record."""
    model: Any
    """The loaded model (or a diffusion pipeline's denoiser), None before :meth:`load`."""

    def load(self, source: ModelSource, task: str) -> None:
        """Build or load the model that runs ``task`` from ``source`` on the settings' device and dtype."""

    def preprocess(self, encoded: Mapping[str, Any]) -> dict[str, Any]:
        """The encoded inputs the model takes, on its device (floating inputs in its dtype)."""

    def forward(self, inputs: dict[str, Any]) -> Any:
        """One pass of the model over a batch."""

    def num_parameters(self) -> int:
        """Parameters of everything :meth:`load` built (all of a pipeline's modules)."""


@runtime_checkable
class GenerativeBackend(Backend, Protocol):
    """A backend whose models generate token by token: a fixed number of new tokens (``generation``:
    the backend's own generation settings, from :meth:`generation_config`)."""

    def generation_config(self, max_new_tokens: int, **overrides: Any) -> Any:
        """Greedy, fixed-length generation: min = max = ``max_new_tokens``, EOS never ends a row early."""

    def prefill(self, inputs: dict[str, Any], generation: Any) -> Any:
        """Process the inputs and produce one new token (AI Energy Score's prefill)."""

    def generate(self, inputs: dict[str, Any], generation: Any) -> Any:
        """The whole generation; returns the sequences."""
