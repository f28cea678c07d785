"""The model catalog: the study's models, each building on the meta device with its published size."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from wattsup.bench.backends import count_parameters
from wattsup.bench.catalog import (
    AUTO_CLASS_BY_TASK,
    PARAMETER_TOLERANCE,
    build_config,
    load_catalog,
    model_class_for,
    model_from_config,
)
from wattsup.errors import NotFound, WattsupError

CATALOG = load_catalog()
HAS_DIFFUSERS = importlib.util.find_spec("diffusers") is not None
# Entries whose count cannot be checked here, and why (each entry also says so in the catalog itself).
EXCEPTIONS = {
    "jozhang97/deta-swin-large": "DETA is not in transformers 5; it builds with transformers < 5",
    "sshleifer/distilbart-xsum-12-6": "the study's csv lists the 6-6 model's size",
    "ydshieh/vit-gpt2-coco-en": "the study's csv lists GPT-2's size alone",
}
TRANSFORMERS_ENTRIES = [e for e in CATALOG if not e.is_diffusion and e.id not in EXCEPTIONS]
DIFFUSION_ENTRIES = [e for e in CATALOG if e.is_diffusion and e.id not in EXCEPTIONS]


def test_study_models_are_all_there(study_data: Path) -> None:
    by_task: dict[str, set[str]] = {}
    for f in (study_data / "emissions" / "complete").glob("*.csv"):
        if f.name.startswith("zeroshot"):
            continue
        with f.open() as fh:
            by_task.setdefault(f.name.split("_")[0], set()).update(
                r["project_name"] for r in csv.DictReader(fh)
            )
    logged = set().union(*by_task.values()) - {"fxmarty/pix2struct-tiny-random"}  # in no published table
    specific = {e.id for e in CATALOG.for_task(family="study-task-specific")}
    assert specific == logged
    assert len(specific) == 82
    multi = {e.id for e in CATALOG.for_task(family="study-multi-purpose")}
    assert multi == {f"google/flan-t5-{s}" for s in ("base", "large", "xl", "xxl")} | {
        f"bigscience/bloomz-{s}" for s in ("560m", "1b7", "3b", "7b1")
    }


def test_study_counts_come_from_the_csv(study_data: Path) -> None:
    with (study_data / "model_parameters.csv").open() as fh:
        published: dict[str, int] = {}
        for r in csv.DictReader(fh):
            published.setdefault(r["model_name"], int(r["num_parameters"]))
    for e in CATALOG.for_task(family="study-task-specific") + CATALOG.for_task(family="study-multi-purpose"):
        assert e.num_parameters == published[e.id], e.id


@pytest.mark.parametrize("entry", TRANSFORMERS_ENTRIES, ids=lambda e: e.id)
def test_entry_builds_on_meta_with_its_published_size(entry) -> None:  # type: ignore[no-untyped-def]
    n = count_parameters(entry)
    if entry.num_parameters is None:
        assert entry.family == "tiny" and 10_000 < n < 1_000_000
    else:
        assert abs(n - entry.num_parameters) <= PARAMETER_TOLERANCE * entry.num_parameters, (
            n,
            entry.num_parameters,
        )
    for task in entry.tasks():  # the architecture that runs each of its tasks builds too
        model = model_from_config(build_config(entry), model_class_for(entry, task), device="meta")
        assert sum(p.numel() for p in model.parameters()) > 0


def test_exceptions_are_documented_in_the_catalog() -> None:
    for name, why in EXCEPTIONS.items():
        assert CATALOG.get(name).parameters_exception, why
    with pytest.raises(WattsupError, match="not in this transformers version"):
        count_parameters(CATALOG.get("jozhang97/deta-swin-large"))


@pytest.mark.skipif(HAS_DIFFUSERS, reason="diffusers is installed: the counts are checked instead")
@pytest.mark.parametrize("entry", DIFFUSION_ENTRIES[:2], ids=lambda e: e.id)
def test_diffusion_entries_name_the_extra_they_need(entry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(WattsupError, match=r"wattsup\[diffusion\]"):
        count_parameters(entry)


@pytest.mark.skipif(not HAS_DIFFUSERS, reason="needs diffusers (the 'diffusion' extra)")
@pytest.mark.parametrize("entry", DIFFUSION_ENTRIES, ids=lambda e: e.id)
def test_diffusion_entry_counts(entry) -> None:  # type: ignore[no-untyped-def]
    n = count_parameters(entry)
    if entry.num_parameters is not None:
        assert abs(n - entry.num_parameters) <= PARAMETER_TOLERANCE * entry.num_parameters


def test_every_task_has_a_tiny_model_and_every_entry_a_known_task() -> None:
    tiny_tasks = {t for e in CATALOG.for_task(family="tiny") for t in e.tasks()}
    assert set(AUTO_CLASS_BY_TASK) - {"text2text-generation"} <= tiny_tasks | {"text-to-image"}
    for e in CATALOG:
        assert e.task in AUTO_CLASS_BY_TASK or e.is_diffusion, e.id


def test_lookup_by_alias_and_close_matches() -> None:
    assert CATALOG.get("openai-community/gpt2").id == "gpt2"
    assert CATALOG.get("GPT2").id == "gpt2"
    with pytest.raises(NotFound) as err:
        CATALOG.get("gtp2")
    assert "gpt2" in err.value.suggestions
