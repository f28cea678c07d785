"""A configuration's per-task settings, typed: one pydantic model per task family.

A task is a scenario (how its inputs are read, what it generates) run on a backend (the library that loads
and calls the model). Each family's model holds both parts' settings, and refuses a key that neither takes:

- :class:`EncoderSettings`: tasks that run one forward pass per batch on transformers (classification,
  extractive QA, fill-mask, detection, embeddings);
- :class:`GenerativeSettings`: tasks that ``generate`` on transformers (text generation, summarisation,
  captioning, speech recognition, chat, and every zero-shot run);
- :class:`DiffusionSettings`: text-to-image on diffusers;
- :class:`ImportedSettings`: runs measured by another tool and imported (what the importer noted);
- :class:`LegacySettings`: settings stored before they were typed that fit no family, kept as they were.

Which family a task takes is :attr:`wattsup.records.tasks.TaskInfo.family`. ``family`` is the
discriminator stored with the settings; a record written before the settings were typed keeps them as
``extra`` (a plain mapping), which :class:`wattsup.records.run.RunConfig` reads into its family's model.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

Family = Literal["encoder", "generative", "diffusion", "imported", "legacy"]
AttnImplementation = Literal["eager", "sdpa", "flash_attention_2", "flash_attention_3", "flex_attention"]


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: ClassVar[str | None] = None
    """The backend the family runs on (None: not run by wattsup)."""


class InputSettings(_Settings):
    """How a scenario reads its inputs."""

    columns: dict[str, str] | None = None
    """Which dataset column feeds each of the task's fields (``--column FIELD=NAME``)."""
    resize: bool = True
    """Resize images as the study did (640×480); false keeps them as they are."""


class GenerationOptions(_Settings):
    """A generative task's protocol: the separate prefill pass, and the beams."""

    prefill_decode: bool = True
    """Meter a separate one-token ``generate`` as ``prefill`` and derive ``decode`` (AI Energy Score)."""
    num_beams: int = Field(default=1, ge=1)
    """Greedy by default; the study's pipelines used each model's own default."""


class DiffusionOptions(_Settings):
    """Steps, guidance and image size (default: the catalog entry's or the pipeline's own, else 50, 7.5
    and 512 pixels)."""

    num_inference_steps: int | None = Field(default=None, ge=1)
    guidance_scale: float | None = None
    image_size: int | None = Field(default=None, ge=8, multiple_of=8)


class TransformersOptions(_Settings):
    """The transformers backend's own settings (beyond the configuration's device and dtype)."""

    trust_remote_code: bool = False
    """Run the model's own code from the Hub (never implied: ``--trust-remote-code``)."""
    tokenizer: Literal["model", "synthetic"] = "model"
    """``synthetic``: wattsup's synthetic tokenizer sized to the model's vocabulary (``--tokenizer``)."""
    attn_implementation: AttnImplementation | None = None
    """The attention kernel transformers uses (None: its default for the model, most often ``sdpa``)."""


class EncoderSettings(InputSettings, TransformersOptions):
    """One forward pass per batch, on transformers."""

    backend: ClassVar[str | None] = "transformers"
    family: Literal["encoder"] = "encoder"


class GenerativeSettings(InputSettings, GenerationOptions, TransformersOptions):
    """Generation of a fixed number of new tokens, on transformers."""

    backend: ClassVar[str | None] = "transformers"
    family: Literal["generative"] = "generative"


class DiffusionSettings(InputSettings, DiffusionOptions):
    """A latent diffusion pipeline, on diffusers."""

    backend: ClassVar[str | None] = "diffusers"
    family: Literal["diffusion"] = "diffusion"


class ImportedSettings(_Settings):
    """A run another tool measured: what the importer noted of it."""

    family: Literal["imported"] = "imported"
    source: str
    """The tool and file kind, e.g. ``CodeCarbon log, Power Hungry Processing study``."""
    images: str | None = None
    """For the study's image tasks: ``resized to 640x480`` or ``native size``."""


class LegacySettings(_Settings):
    """Settings stored before they were typed that fit no family (a record written by hand or by another
    tool): kept as they were, so the record loads and hashes as it did. A configuration holding them does
    not run; :func:`wattsup.records.run.checked_config` says which setting its task does not take."""

    family: Literal["legacy"] = "legacy"
    values: dict[str, JsonValue]


AnySettings = EncoderSettings | GenerativeSettings | DiffusionSettings | ImportedSettings | LegacySettings
TaskSettings = Annotated[AnySettings, Field(discriminator="family")]
"""A configuration's settings: the model of its task's family."""

FAMILIES: dict[Family, type[AnySettings]] = {
    "encoder": EncoderSettings,
    "generative": GenerativeSettings,
    "diffusion": DiffusionSettings,
    "imported": ImportedSettings,
    "legacy": LegacySettings,
}


def setting_names(family: type[AnySettings]) -> list[str]:
    """The settings a family takes, sorted (``family`` itself is the discriminator, not a setting)."""
    return sorted(set(family.model_fields) - {"family"})


def given(settings: AnySettings) -> dict[str, Any]:
    """The settings given explicitly, JSON-ready: what a configuration's hash covers (as ``extra`` did
    before the settings were typed, so a configuration hashes as it did then)."""
    if isinstance(settings, LegacySettings):
        return dict(settings.values)
    return settings.model_dump(mode="json", exclude_unset=True, exclude={"family"})


def read(family: Family, raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` (a plain mapping, as ``extra`` was) tagged with ``family``; as legacy settings where that
    family's model does not take them."""
    try:
        FAMILIES[family].model_validate(raw)
    except ValidationError:
        return {"family": "legacy", "values": raw}
    return {"family": family, **raw}


def problem(family: Family, task: str, raw: dict[str, Any]) -> str:
    """What is wrong with ``raw`` as ``family`` settings of ``task``, in one line (a setting it does not
    take names those it does); empty if nothing is."""
    model = FAMILIES[family]
    unknown = sorted(set(raw) - set(setting_names(model)))
    if unknown:
        runs_on = f"on the {model.backend} backend " if model.backend else f"({family}) "
        return f"{task} {runs_on}takes no setting {unknown[0]!r}; it takes: {', '.join(setting_names(model))}"
    try:
        model.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        return f"{where}: {first['msg']} (got {first.get('input')!r})"
    return ""


__all__ = [
    "FAMILIES",
    "AnySettings",
    "AttnImplementation",
    "DiffusionOptions",
    "DiffusionSettings",
    "EncoderSettings",
    "Family",
    "GenerationOptions",
    "GenerativeSettings",
    "ImportedSettings",
    "InputSettings",
    "LegacySettings",
    "TaskSettings",
    "TransformersOptions",
    "given",
    "problem",
    "read",
    "setting_names",
]
