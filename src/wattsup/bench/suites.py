"""Named suites: ``quick`` (every task with a tiny real architecture, random weights, small n: a few minutes
on a laptop CPU) and ``paper`` (one task-specific model per study task and two multi-purpose models on the
study's three prompted tasks, n = 1,000, for a GPU)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from wattsup.bench.tasks import get_task_info
from wattsup.errors import NotFound
from wattsup.records import RunConfig, checked_config


@dataclass(frozen=True)
class SuiteRun:
    task: str
    model: str
    dataset: str
    max_new_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_suites() -> dict[str, dict[str, Any]]:
    """The suites of ``data/bench/suites.json``: each one's settings and its ``runs`` (task and model; the
    dataset is the run's own, else the one the suites use for its task)."""
    raw = json.loads(
        resources.files("wattsup.data").joinpath("bench/suites.json").read_text(encoding="utf-8")
    )
    datasets: dict[str, str] = raw["datasets"]
    return {
        name: suite
        | {"runs": tuple(SuiteRun(**({"dataset": datasets[run["task"]]} | run)) for run in suite["runs"])}
        for name, suite in raw["suites"].items()
    }


SUITES: dict[str, dict[str, Any]] = load_suites()


def needs_missing_extra(config: RunConfig) -> str | None:
    """The extra a configuration needs that is not installed here (``diffusion`` for text-to-image)."""
    import importlib.util

    if config.task == "text-to-image" and importlib.util.find_spec("diffusers") is None:
        return "diffusion"
    return None


def default_device() -> str:
    """``cuda`` where torch sees a GPU, else ``cpu``: the quick suite runs on whatever hardware is here."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def suite_configs(
    name: str,
    tasks: list[str] | None = None,
    *,
    device: str | None = None,
    weights: str | None = None,
    n: int | None = None,
    reps: int | None = None,
    hub_inputs: bool = False,
    dtype: str = "float32",
    seed: int = 0,
) -> list[RunConfig]:
    """The RunConfigs of suite ``name``, optionally only for ``tasks`` (names or aliases)."""
    if name not in SUITES:
        raise NotFound("suite", name, list(SUITES))
    s = SUITES[name]
    dev = device or s["device"]
    if dev == "auto":
        dev = default_device()
    wanted = {get_task_info(t).name for t in tasks} if tasks else None
    out = []
    for r in s["runs"]:
        if wanted is not None and r.task not in wanted:
            continue
        out.append(
            checked_config(
                dict(
                    task=r.task,
                    model=r.model,
                    dataset=f"hub:{r.dataset}" if hub_inputs else r.dataset,
                    weights=weights or s["weights"],
                    n=n or s["n"],
                    reps=reps or s["reps"],
                    warmup=s["warmup"],
                    device=dev,
                    dtype=dtype,
                    seed=seed,
                    max_new_tokens=r.max_new_tokens,
                    extra=dict(r.extra),
                )
            )
        )
    return out
