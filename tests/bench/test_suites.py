"""The named suites, read from ``data/bench/suites.json``: every run names a known task, model and dataset."""

from __future__ import annotations

from wattsup.bench.catalog import load_catalog
from wattsup.bench.inputs import load_profiles
from wattsup.bench.suites import SUITES, suite_configs
from wattsup.bench.tasks import get_task_info


def test_quick_covers_every_task_with_a_catalog_model_and_its_profile() -> None:
    profiles = load_profiles()
    catalog = load_catalog()
    quick = SUITES["quick"]["runs"]
    for run in quick:
        assert get_task_info(run.task).name == run.task
        assert catalog.find(run.model) is not None, run.model
        assert run.dataset in profiles and run.task in profiles[run.dataset].tasks, run
    chat = next(r for r in quick if r.task == "chat")
    assert (chat.dataset, chat.max_new_tokens) == ("chat-prompts", 128)


def test_paper_runs_the_study_models_on_the_datasets_of_the_quick_suite() -> None:
    quick = {r.task: r.dataset for r in SUITES["quick"]["runs"]}
    paper = SUITES["paper"]["runs"]
    assert len(paper) == 16
    assert all(r.dataset == quick[r.task] for r in paper)
    prompted = [(r.task, r.model) for r in paper if r.model == "google/flan-t5-base"]
    assert prompted == [
        ("text-classification", "google/flan-t5-base"),
        ("question-answering", "google/flan-t5-base"),
        ("summarization", "google/flan-t5-base"),
    ]


def test_suite_configs_take_the_suite_settings_and_the_overrides() -> None:
    cfg = suite_configs("paper", ["sentiment"], device="cpu")[0]
    assert (cfg.task, cfg.dataset, cfg.n, cfg.reps, cfg.warmup, cfg.weights) == (
        "text-classification",
        "imdb",
        1000,
        3,
        10,
        "pretrained",
    )
    assert SUITES["paper"]["timeout_s"] == 6 * 3600.0
    hub = suite_configs("quick", ["fill-mask"], device="cpu", hub_inputs=True, n=2)
    assert [(c.dataset, c.n) for c in hub] == [("hub:c4", 2)]
