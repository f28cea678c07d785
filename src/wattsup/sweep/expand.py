"""From a sweep file to the list of configurations it declares: blocks merged with the top-level defaults,
axes multiplied out, configurations normalised (as ``wattsup bench`` does, so equal runs hash equally),
exclusions applied, duplicates dropped, and every remaining configuration validated by the harness."""

from __future__ import annotations

import fnmatch
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wattsup.errors import InvalidInput, NotFound
from wattsup.records import RunConfig, checked_config
from wattsup.records.settings import given
from wattsup.sweep.spec import (
    AXES,
    Block,
    Exclusion,
    KeyPath,
    Located,
    Problem,
    SweepFile,
    SweepFileError,
    format_path,
    load_file,
    load_text,
)

_GLOB = set("*?[")

DEFAULT_MAX_CONFIGS = 100_000
"""The most combinations a sweep file may declare (before exclusions) unless the caller raises it
(``wattsup sweep --max-configs N``): 200,000 expand in seconds, 24 million took 1.5 GB and kept going."""


@dataclass(frozen=True)
class Expansion:
    """The configurations a sweep file declares, in file order, each once."""

    spec: SweepFile
    source: str
    configs: list[RunConfig]
    combinations: int = 0
    """Combinations before exclusions and de-duplication."""
    excluded: int = 0
    duplicates: int = 0
    """Combinations equal (same config hash) to an earlier one, dropped."""
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Axis:
    values: list[Any]
    path: KeyPath | None
    """Where the values were written (None: the harness's default)."""

    def at(self, i: int) -> KeyPath | None:
        return None if self.path is None else (*self.path, i)


def load_sweep(path: str | Path, *, max_configs: int = DEFAULT_MAX_CONFIGS) -> Expansion:
    """Read, validate and expand a sweep file; :class:`SweepFileError` lists every problem with its line."""
    spec, located = load_file(path)
    return expand(spec, located, str(path), max_configs=max_configs)


def expand_text(text: str, source: str = "<sweep>", *, max_configs: int = DEFAULT_MAX_CONFIGS) -> Expansion:
    spec, located = load_text(text, source)
    return expand(spec, located, source, max_configs=max_configs)


def _check_size(spec: SweepFile, located: Located, source: str, max_configs: int) -> None:
    """Refuse a matrix of more than ``max_configs`` combinations before building any of them."""
    total = 0
    for prefix, block in _blocks(spec):
        size = 1
        for key in AXES:
            axis = _axis(spec, prefix, block, key, [None])
            size *= len(axis.values)
        total += size
    if total > max_configs:
        raise SweepFileError(
            source,
            [
                Problem(
                    (),
                    f"the matrix multiplies out to {total:,} configurations, more than the limit of "
                    f"{max_configs:,}; split the file, cut an axis, or raise the limit with "
                    "--max-configs N (Python: load_sweep(path, max_configs=N))",
                    located.line(()),
                )
            ],
        )


def _blocks(spec: SweepFile) -> list[tuple[KeyPath, Block]]:
    if spec.matrix:
        return [(("matrix", i), b) for i, b in enumerate(spec.matrix)]
    return [((), spec)]


def _axis(spec: SweepFile, prefix: KeyPath, block: Block, key: str, default: list[Any]) -> _Axis:
    own = getattr(block, key)
    if own is not None:
        return _Axis(list(own), (*prefix, key))
    top = getattr(spec, key)
    if top is not None:
        return _Axis(list(top), (key,))
    return _Axis(default, None)


def _setting(spec: SweepFile, block: Block, key: str) -> Any:
    own = getattr(block, key)
    return own if own is not None else getattr(spec, key)


def _text_match(value: str, patterns: list[str]) -> bool:
    v = value.lower()
    return any(fnmatch.fnmatchcase(v, p.lower()) if _GLOB & set(p) else v == p.lower() for p in patterns)


def _rule_matches(rule: dict[str, list[Any]], cfg: RunConfig) -> bool:
    fields = {
        "task": cfg.task,
        "model": cfg.model,
        "dataset": cfg.dataset,
        "batch_size": cfg.batch_size,
        "dtype": cfg.dtype,
        "reps": cfg.reps,
        "weights": cfg.weights,
        "seed": cfg.seed,
        "device": cfg.device,
        "mode": cfg.mode,
    }
    for key, wanted in rule.items():
        value = fields[key]
        if isinstance(value, str):
            if not _text_match(value, [str(w) for w in wanted]):
                return False
        elif value not in wanted:
            return False
    return True


def _resolve_rules(
    rules: list[Exclusion], located: Located, problems: list[Problem]
) -> list[dict[str, list[Any]]]:
    """Exclusions with task aliases resolved (``qa`` → ``question-answering``); unknown tasks are problems."""
    from wattsup.records.tasks import get_task_info

    out = []
    for i, rule in enumerate(rules):
        keys = rule.keys()
        if "task" in keys:
            resolved = []
            for j, t in enumerate(keys["task"]):
                if _GLOB & set(t):
                    resolved.append(t)
                    continue
                try:
                    resolved.append(get_task_info(t).name)
                except NotFound as err:
                    problems.append(located.problem(("exclude", i, "task", j), str(err)))
            keys["task"] = resolved
        out.append(keys)
    return out


def _message(err: InvalidInput | NotFound) -> str:
    text = str(err)
    return text.removeprefix(f"{err.field}: ") if isinstance(err, InvalidInput) else text


ProblemFn = Callable[[KeyPath | None, str], None]
Where = Callable[[str], KeyPath | None]
"""Where in the file a field of one combination was written (``task``, ``model``, ``extra``, ...)."""


@dataclass
class _Tally:
    combinations: int = 0
    excluded: int = 0
    duplicates: int = 0


def expand(
    spec: SweepFile, located: Located, source: str = "<sweep>", *, max_configs: int = DEFAULT_MAX_CONFIGS
) -> Expansion:
    """Every configuration ``spec`` declares, normalised, filtered and validated (see the module doc).
    A matrix of more than ``max_configs`` combinations is refused before any is built."""
    _check_size(spec, located, source, max_configs)
    problems: list[Problem] = []

    def problem(path: KeyPath | None, message: str) -> None:
        p = located.problem(path or (), message)
        if p not in problems:
            problems.append(p)

    rules = _resolve_rules(spec.exclude, located, problems)
    used = [False] * len(rules)
    seen: set[str] = set()
    configs: list[RunConfig] = []
    checked: dict[tuple[str | int, ...], bool] = {}
    tally = _Tally()
    for prefix, block in _blocks(spec):
        for cfg, where in _combinations(spec, prefix, block, problem, tally):
            hit = [k for k, rule in enumerate(rules) if _rule_matches(rule, cfg)]
            if hit:
                for k in hit:
                    used[k] = True
                tally.excluded += 1
                continue
            if not _validated(cfg, where, checked, problem):
                continue
            h = cfg.config_hash()
            if h in seen:
                tally.duplicates += 1
                continue
            seen.add(h)
            configs.append(cfg)
    if problems:
        raise SweepFileError(source, problems)
    warnings = [
        f"{source}:{located.line(('exclude', k))}: exclude[{k}] matches no configuration (a typo?)"
        for k, matched in enumerate(used)
        if not matched
    ]
    if not configs:
        warnings.append(f"{source}: every configuration is excluded: nothing to run")
    return Expansion(spec, source, configs, tally.combinations, tally.excluded, tally.duplicates, warnings)


def _combinations(
    spec: SweepFile, prefix: KeyPath, block: Block, problem: ProblemFn, tally: _Tally
) -> Iterator[tuple[RunConfig, Where]]:
    """The normalised configurations of one block, each with where its fields were written; a task or a
    setting that is refused is a problem at its place."""
    from wattsup.bench.protocol import normalise
    from wattsup.records.tasks import get_task_info

    tasks = _axis(spec, prefix, block, "tasks", [])
    models = _axis(spec, prefix, block, "models", [])
    missing = [k for k, a in (("tasks", tasks), ("models", models)) if a.path is None]
    if missing:
        place = f"in {format_path(prefix)} or at the top level" if prefix else "at the top level"
        problem(prefix, f"no {' or '.join(repr(m) for m in missing)} {place}: say what to run")
        return
    task_names: list[tuple[int, str]] = []
    for i, t in enumerate(tasks.values):
        try:
            task_names.append((i, get_task_info(t).name))
        except NotFound as err:
            problem(tasks.at(i), str(err))
    axes = {key: _axis(spec, prefix, block, key, default) for key, default in _DEFAULTS.items()}
    settings = {k: _setting(spec, block, k) for k in ("n", "warmup", "device", "max_new_tokens", "extra")}
    fixed = {k: v for k, v in settings.items() if v is not None}
    mode = "zero-shot" if _setting(spec, block, "zero_shot") else "task-specific"
    for ti, task in task_names:
        for idx in itertools.product(*(range(len(a.values)) for a in axes.values())):
            tally.combinations += 1
            picked = dict(zip(axes, idx, strict=True))
            raw = {_FIELD[k]: axes[k].values[i] for k, i in picked.items()}
            where = _locator(prefix, block, tasks.at(ti), {k: axes[k].at(i) for k, i in picked.items()})
            try:
                cfg = normalise(checked_config({"task": task, "mode": mode, **raw, **fixed}))
            except (NotFound, InvalidInput) as err:
                _report(err, where, problem)
                continue
            yield cfg, where


_DEFAULTS: dict[str, list[Any]] = {
    "models": [],
    "datasets": [""],
    "batch_sizes": [1],
    "dtypes": ["float32"],
    "reps": [3],
    "weights": ["pretrained"],
    "seeds": [0],
}
_FIELD = {
    "models": "model",
    "datasets": "dataset",
    "batch_sizes": "batch_size",
    "dtypes": "dtype",
    "reps": "reps",
    "weights": "weights",
    "seeds": "seed",
}
"""Axis → the RunConfig field it sets."""


def _locator(prefix: KeyPath, block: Block, task_at: KeyPath | None, at: dict[str, KeyPath | None]) -> Where:
    places: dict[str, KeyPath | None] = {
        "task": task_at,
        "model": at["models"],
        "dataset": at["datasets"] or task_at,
        "weights": at["weights"] or at["models"],
        "extra": (*prefix, "extra") if block.extra is not None else ("extra",),
    }
    return lambda field_name: places.get(field_name, prefix)


def _report(err: NotFound | InvalidInput, where: Where, problem: ProblemFn) -> None:
    field_name = err.kind if isinstance(err, NotFound) else err.field
    problem(where(field_name), _message(err))


def _validated(
    cfg: RunConfig, where: Where, checked: dict[tuple[str | int, ...], bool], problem: ProblemFn
) -> bool:
    """Whether the harness takes ``cfg`` (checked once per model, dataset and settings; the device is
    checked where the runs will run: the local executor, here); a refusal is a problem at its place."""
    from wattsup.bench.api import validate

    key: tuple[str | int, ...] = (
        cfg.task, cfg.model, cfg.weights, cfg.dataset, cfg.mode, cfg.dtype, cfg.device, cfg.n,
        cfg.reps, cfg.warmup, json.dumps(given(cfg.settings), sort_keys=True),
    )  # fmt: skip
    if key not in checked:
        try:
            validate(cfg, device_here=False)
            checked[key] = True
        except (NotFound, InvalidInput) as err:
            checked[key] = False
            _report(err, where, problem)
    return checked[key]
