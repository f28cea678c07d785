"""Run configurations' typed settings: one model per task family, read from the ``extra`` mapping that
callers give and that records stored before the settings were typed hold, with the hash they had then."""

from __future__ import annotations

import json

import pytest

from wattsup.errors import InvalidInput
from wattsup.records import RunConfig, RunRecord, checked_config
from wattsup.records.settings import (
    DiffusionSettings,
    EncoderSettings,
    GenerativeSettings,
    ImportedSettings,
    LegacySettings,
)

OLD_HASHES = [
    ({"task": "summarization", "extra": {"num_beams": 2}}, "a0a4c01ac48dffe6"),
    ({"task": "text-classification"}, "8a95b7c801ec2e38"),
    (
        {"task": "text-classification", "extra": {"source": "CodeCarbon log", "images": "native size"}},
        "edb97f3aa4ed0e58",
    ),
    ({"task": "text-to-image", "extra": {"image_size": 256, "guidance_scale": 7.5}}, "3fbae8b1592abdb7"),
]
"""Configurations and the hashes wattsup gave them when ``extra`` was an untyped mapping (computed with
that version): resume and dedup find the runs stored then."""


@pytest.mark.parametrize(("fields", "old_hash"), OLD_HASHES)
def test_a_configuration_hashes_as_it_did_before_the_settings_were_typed(
    fields: dict[str, object], old_hash: str
) -> None:
    config = RunConfig.model_validate({"model": "m", "dataset": "d", **fields})
    assert config.config_hash() == old_hash
    again = RunConfig.model_validate_json(config.model_dump_json())
    assert again == config and again.config_hash() == old_hash


def test_each_task_family_gets_its_own_model() -> None:
    def settings(task: str, mode: str = "task-specific", **extra: object) -> object:
        return RunConfig(task=task, model="m", dataset="d", mode=mode, extra=extra).settings  # type: ignore[call-arg]

    assert type(settings("fill-mask", columns={"text": "t"})) is EncoderSettings
    assert type(settings("chat", num_beams=2)) is GenerativeSettings
    assert type(settings("text-classification", "zero-shot")) is GenerativeSettings
    assert type(settings("text-to-image", num_inference_steps=4)) is DiffusionSettings
    assert type(settings("summarization", source="optimum-benchmark report")) is ImportedSettings


def test_a_record_stored_with_an_extra_mapping_still_loads() -> None:
    stored = {
        "run_id": "r1",
        "config": {
            "task": "summarization",
            "model": "m",
            "dataset": "d",
            "mode": "task-specific",
            "extra": {"num_beams": 3, "attn_implementation": "eager"},
        },
        "started_at": "2024-01-01T00:00:00Z",
    }
    record = RunRecord.model_validate_json(json.dumps(stored))
    assert record.config.settings == GenerativeSettings(num_beams=3, attn_implementation="eager")
    assert json.loads(record.model_dump_json())["config"]["settings"] == {
        "family": "generative",
        "num_beams": 3,
        "attn_implementation": "eager",
    }


def test_settings_that_fit_no_family_load_as_they_were_and_are_refused_for_a_run() -> None:
    config = RunConfig(task="text-generation", model="m", dataset="d", extra={"prompt_tokens": 32})  # type: ignore[call-arg]
    assert config.settings == LegacySettings(values={"prompt_tokens": 32})
    assert RunConfig.model_validate_json(config.model_dump_json()).config_hash() == config.config_hash()
    with pytest.raises(InvalidInput, match="text-generation on the transformers backend takes no setting"):
        checked_config(config.model_dump())


def test_revising_the_mode_reads_the_settings_into_the_new_family() -> None:
    config = checked_config({"task": "text-classification", "model": "m", "dataset": "d"})
    zero_shot = config.revised(mode="zero-shot")
    assert type(zero_shot.settings) is GenerativeSettings
    assert zero_shot.config_hash() != config.config_hash()
    imported = RunConfig(task="qa", model="m", dataset="d", settings=ImportedSettings(source="a log"))
    assert imported.revised(task="question-answering").settings == ImportedSettings(source="a log")
