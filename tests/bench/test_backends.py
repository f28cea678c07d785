"""Scenario × backend: the task family's typed settings and the backend's share of them, the backends'
calls, and a scenario driving a fake backend through its phases."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest

from wattsup.bench.api import make_config
from wattsup.bench.backends import BACKENDS, backend_class, count_parameters
from wattsup.bench.backends.base import Backend, GenerativeBackend
from wattsup.bench.backends.diffusers import DiffusersBackend, DiffusersSettings
from wattsup.bench.backends.transformers import TransformersBackend, TransformersSettings
from wattsup.bench.catalog import load_catalog
from wattsup.bench.inputs import resolve_inputs
from wattsup.bench.tasks import task_class
from wattsup.bench.tasks.base import no_phase
from wattsup.errors import InvalidInput, NotFound
from wattsup.records import RunConfig, checked_config
from wattsup.records.settings import (
    DiffusionSettings,
    EncoderSettings,
    GenerativeSettings,
    ImportedSettings,
)

HAS_DIFFUSERS = importlib.util.find_spec("diffusers") is not None


def config(task: str, model: str, **extra: Any) -> RunConfig:
    return checked_config({"task": task, "model": model, "weights": "random", "dataset": "", "extra": extra})


def test_extra_is_read_into_the_family_settings_and_the_backend_takes_its_share() -> None:
    cfg = config(
        "summarization",
        "tiny/bart-summarizer",
        num_beams=2,
        tokenizer="synthetic",
        columns={"text": "dialogue"},
    )
    scenario, backend = task_class("summarization").settings_for(cfg)
    assert scenario == GenerativeSettings(num_beams=2, tokenizer="synthetic", columns={"text": "dialogue"})
    assert backend == TransformersSettings(tokenizer="synthetic", device="cpu", dtype="float32")
    scenario, backend = task_class("text-to-image").settings_for(
        config("text-to-image", "tiny/stable-diffusion", num_inference_steps=2)
    )
    assert type(backend) is DiffusersSettings and type(scenario) is DiffusionSettings
    assert scenario.num_inference_steps == 2
    plain, _ = task_class("text-classification").settings_for(
        config("text-classification", "x", resize=False)
    )
    assert type(plain) is EncoderSettings and plain.resize is False


@pytest.mark.parametrize(
    ("task", "extra", "message"),
    [
        (
            "summarization",
            {"num_beam": 2},
            "extra: summarization on the transformers backend takes no setting 'num_beam'; it takes: "
            "attn_implementation, columns, num_beams, prefill_decode, resize, tokenizer, trust_remote_code",
        ),
        ("text-classification", {"num_beams": 2}, "takes no setting 'num_beams'"),  # not a generative task
        ("text-to-image", {"trust_remote_code": True}, "text-to-image on the diffusers backend takes no"),
        ("summarization", {"num_beams": 0}, "extra: num_beams: Input should be greater than or equal to 1"),
        ("text-generation", {"attn_implementation": "flash"}, "extra: attn_implementation: Input should be"),
        ("text-to-image", {"image_size": 100}, "extra: image_size: Input should be a multiple of 8"),
    ],
)
def test_a_setting_neither_part_takes_or_a_bad_value_is_refused_in_one_line(
    task: str, extra: dict[str, Any], message: str
) -> None:
    model = {"text-to-image": "tiny/stable-diffusion", "text-classification": "tiny/bert-classifier"}
    with pytest.raises(InvalidInput) as err:
        config(task, model.get(task, "tiny/gpt2"), **extra)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_each_task_takes_its_family_settings_and_they_hold_every_setting_of_its_backend() -> None:
    from wattsup.bench.backends import settings_class
    from wattsup.bench.tasks import TASKS, ZERO_SHOT_TASKS

    classes = [task_class(t.name) for t in TASKS] + [task_class(t, "zero-shot") for t in ZERO_SHOT_TASKS]
    for cls in classes:
        assert cls.Settings.backend == cls.backend_name, cls.name
        missing = settings_class(cls.backend_name).extra_keys() - set(cls.Settings.model_fields)
        assert not missing, f"{cls.name}: its backend takes {missing}, which its settings do not hold"
    infos = {t.name: t.family for t in TASKS}
    for t in TASKS:
        assert task_class(t.name).Settings.model_fields["family"].default == infos[t.name]


def test_settings_of_another_family_are_refused_by_the_task() -> None:
    imported = RunConfig(
        task="summarization", model="m", dataset="", settings=ImportedSettings(source="a log")
    )
    with pytest.raises(InvalidInput, match=r"summarization .* takes generative settings, not imported ones"):
        task_class("summarization").settings_for(imported)


def test_make_config_refuses_an_unknown_setting_before_anything_runs() -> None:
    with pytest.raises(InvalidInput, match="takes no setting 'tokeniser'"):
        make_config("text-classification", "tiny/bert-classifier", weights="random", extra={"tokeniser": "x"})


def test_the_backends_satisfy_their_protocols() -> None:
    hf = TransformersBackend(TransformersSettings())
    assert isinstance(hf, Backend) and isinstance(hf, GenerativeBackend)
    diff = DiffusersBackend(DiffusersSettings())
    assert isinstance(diff, Backend) and not isinstance(diff, GenerativeBackend)
    assert {n: backend_class(n).name for n in BACKENDS} == {
        "transformers": "transformers",
        "diffusers": "diffusers",
    }
    with pytest.raises(NotFound, match="unknown backend 'onnx'"):
        backend_class("onnx")


@pytest.mark.parametrize("attn", ["eager", "sdpa"])
def test_the_attention_implementation_reaches_the_model(attn: str) -> None:
    t = task_class("text-generation")(config("text-generation", "tiny/gpt2", attn_implementation=attn))
    t.load()
    assert t.model.config._attn_implementation == attn
    ex = list(resolve_inputs("wikitext", t.fields, t.name, 2, seed=0).examples)
    assert t.run(ex, no_phase).units == 20


def test_the_transformers_backend_counts_what_it_loaded() -> None:
    t = task_class("text-classification")(config("text-classification", "tiny/bert-classifier"))
    t.load()
    built = sum(p.numel() for p in t.model.parameters())
    assert t.provenance["parameters"] == str(built) and built > 0
    entry = load_catalog().get("tiny/bert-classifier")
    assert entry.count_model == "task" and count_parameters(entry) == built  # built on meta, counted alike


@pytest.mark.skipif(not HAS_DIFFUSERS, reason="needs diffusers (the 'diffusion' extra)")
def test_image_generation_runs_its_phases_on_the_diffusers_backend() -> None:
    cfg = config("text-to-image", "tiny/stable-diffusion", num_inference_steps=2, image_size=32)
    t = task_class("text-to-image")(cfg)
    t.load()
    assert (t.steps, t.guidance, t.image_size) == (2, 7.5, 32)  # settings, else the catalog entry's
    phases: list[str] = []

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        phases.append(name)
        yield

    import torch

    with torch.inference_mode():  # as the protocol runs every batch
        res = t.run([{"text": "a red bicycle"}, {"text": "a cat"}], phase)
    # latents of 32 // 8 = 4 a side; the tiny VAE has two blocks, so it upsamples them by 2, not SD's 8
    assert res.units == 2 and res.outputs == [(2, 8, 8, 3)]
    assert phases == ["preprocess", "text_encoder", "denoise", "vae_decode", "postprocess"]
    default = task_class("text-to-image")(config("text-to-image", "tiny/stable-diffusion"))
    default.load()
    assert (default.steps, default.image_size) == (4, 16)  # the catalog entry's own
    assert int(default.provenance["parameters"]) == count_parameters(
        load_catalog().get("tiny/stable-diffusion")
    )


class FakeGenerator:
    """A generative backend that records its calls (no model, no torch)."""

    name: ClassVar[str] = "fake"

    def __init__(self, log: list[str]) -> None:
        self.settings = TransformersSettings()
        self.provenance: dict[str, str] = {}
        self.model: Any = None
        self.log = log

    def load(self, source: Any, task: str) -> None:
        self.log.append(f"load {task}")

    def preprocess(self, encoded: Any) -> dict[str, Any]:
        return dict(encoded)

    def forward(self, inputs: dict[str, Any]) -> Any:
        raise AssertionError("a generative task does not call forward")

    def num_parameters(self) -> int:
        return 0

    def generation_config(self, max_new_tokens: int, **overrides: Any) -> Any:
        self.log.append(f"config {max_new_tokens} beams={overrides['num_beams']}")
        return SimpleNamespace(max_new_tokens=max_new_tokens)

    def prefill(self, inputs: dict[str, Any], generation: Any) -> Any:
        self.log.append("prefill")
        return None

    def generate(self, inputs: dict[str, Any], generation: Any) -> Any:
        self.log.append(f"generate {generation.max_new_tokens}")
        return "ids"


@pytest.mark.parametrize(
    ("prefill_decode", "expected"),
    [
        (
            True,
            [
                "config 15 beams=3",
                "enter prefill",
                "prefill",
                "exit prefill",
                "enter generate",
                "generate 15",
                "exit generate",
            ],
        ),
        (
            False,
            [
                "config 15 beams=3",
                "enter generate",
                "enter prefill",
                "generate 15",
                "exit prefill",
                "exit generate",
            ],
        ),
    ],
)
def test_a_generative_scenario_drives_its_backend_through_its_phases(
    prefill_decode: bool, expected: list[str]
) -> None:
    log: list[str] = []
    t = task_class("summarization")(
        config("summarization", "tiny/bart-summarizer", num_beams=3, prefill_decode=prefill_decode)
    )
    t.backend = FakeGenerator(log)

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        log.append(f"enter {name}")
        yield
        log.append(f"exit {name}")

    out, excluded = t.generate({"input_ids": [[1, 2]]}, phase)
    assert out == "ids" and log == expected
    assert (excluded > 0) is prefill_decode  # the separate prefill pass is kept out of the latency
    log.clear()
    t.generate({"input_ids": [[1, 2]]}, phase)
    assert not [c for c in log if c.startswith("config")]  # the generation config is built once a run
