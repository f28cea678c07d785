"""The file naming of the Power Hungry Processing study's logs (Luccioni, Jernite, Strubell, FAccT 2024):
``emissions/complete/<task>_<dataset>[_resized|_15][_bloomz].csv``. See
``shared/data/power-hungry-processing/README.md`` and docs/recipes/power-hungry-processing.md.

- The task comes from the prefix; ``zeroshot_*`` files hold multi-purpose models prompted for the task
  (mode ``zero-shot``); ``_bloomz`` only says which family a file holds.
- The dataset comes from the rest, mapped to wattsup's dataset profile names (``tomatoes`` →
  ``rotten_tomatoes``, ``CPPE`` → ``cppe-5``, ...).
- Image inputs: the study's protocol resizes images to 640×480, and its published tables use the
  ``_resized`` files. Those runs get the plain dataset name (``coco``); runs on images at their native
  size (files without ``_resized`` of a task that has resized variants) get ``<dataset>_native``
  (``coco_native``), so a summary can leave them out with ``--exclude-dataset '*_native'``.
- ``summarize_*_15``: summaries of 15 new tokens (``max_new_tokens`` 15).

The study's side files are read here too: model parameter counts (:func:`read_params`) and output
lengths (:func:`read_lengths`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from wattsup.errors import InvalidInput, finite_number
from wattsup.results.importers.options import csv_files

STUDY = "Power Hungry Processing (Luccioni, Jernite, Strubell, FAccT 2024)"

_NAMES = json.loads(
    resources.files("wattsup.data").joinpath("results/study_names.json").read_text(encoding="utf-8")
)

PREFIXES: dict[str, tuple[str, str]] = {k: (task, mode) for k, (task, mode) in _NAMES["prefixes"].items()}
"""File-name prefix → (wattsup task, mode), from ``data/results/study_names.json``. Longest prefixes are
tried first."""

DATASETS: dict[str, str] = dict(_NAMES["datasets"])
"""The study's dataset tokens → wattsup dataset profile names (``data/results/study_names.json``)."""

RESIZED_TASKS = ("image-classification", "object-detection", "image-to-text")
"""Tasks whose study logs come in native-size and ``_resized`` (640×480) variants."""

NATIVE_SUFFIX = "_native"


@dataclass(frozen=True)
class StudyName:
    """What a study log's file name says."""

    task: str
    mode: str
    dataset: str
    max_new_tokens: int | None
    images: str | None = None
    """``"resized to 640x480"`` or ``"native size"`` for image tasks; ``None`` otherwise."""


def parse_name(stem: str) -> StudyName | None:
    """Parse a study log's file stem (``obj_detection_CPPE_resized``); ``None`` if it is not one."""
    lowered = stem.lower()
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        if not lowered.startswith(prefix + "_"):
            continue
        task, mode = PREFIXES[prefix]
        rest = lowered[len(prefix) + 1 :]
        resized = False
        tokens: int | None = None
        changed = True
        while changed:
            changed = False
            for suffix in ("_bloomz", "_flan", "_resized", "_15"):
                if rest.endswith(suffix):
                    rest = rest[: -len(suffix)]
                    resized |= suffix == "_resized"
                    if suffix == "_15":
                        tokens = 15
                    changed = True
        dataset = DATASETS.get(rest)
        if dataset is None:
            return None
        images = None
        if task in RESIZED_TASKS:
            images = "resized to 640x480" if resized else "native size"
            if not resized:
                dataset += NATIVE_SUFFIX
        return StudyName(task, mode, dataset, tokens, images)
    return None


def lengths_dataset(stem: str) -> str | None:
    """The dataset of a study ``lengths/complete/<dataset>[_flan].csv`` file, as a profile name."""
    lowered = stem.lower()
    if lowered.endswith("_flan"):
        lowered = lowered[: -len("_flan")]
    return DATASETS.get(lowered)


def read_params(path: str | Path) -> dict[str, int]:
    """``model_name,num_parameters`` CSV (the study's ``model_parameters.csv``) → model → count."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InvalidInput("--params", f"{p} does not exist")
    out: dict[str, int] = {}
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        name_col = next((c for c in cols if c.lower() in ("model_name", "model", "name")), None)
        num_col = next((c for c in cols if c.lower() in ("num_parameters", "n_params", "parameters")), None)
        if name_col is None or num_col is None:
            raise InvalidInput("--params", f"{p}: needs columns model_name and num_parameters, has {cols}")
        for i, rec in enumerate(reader, start=2):
            name = (rec.get(name_col) or "").strip()
            raw = (rec.get(num_col) or "").strip()
            if not name or not raw:
                continue
            try:
                n = finite_number("--params", float(raw), minimum=0)
            except ValueError:
                raise InvalidInput("--params", f"{p}:{i}: {raw!r} is not a parameter count") from None
            out[name] = int(n)
    return out


LengthKey = tuple[str, str]


def read_lengths(
    paths: Iterable[str | Path], models: Iterable[str] = (), *, warnings: list[str] | None = None
) -> dict[LengthKey, float]:
    """The study's output lengths (``Input, Output, model, dataset`` per sample; the dataset from the file
    name) → (model, dataset) → mean output tokens per inference. A model name that is a unique prefix of
    one in ``models`` is mapped to it (the study's files say ``bloomz-1b`` for ``bloomz-1b7``)."""
    known = sorted(set(models))
    sums: dict[LengthKey, list[float]] = {}
    for path in csv_files(paths, flag="--lengths"):
        dataset = lengths_dataset(path.stem)
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = reader.fieldnames or []
            if "Output" not in cols or "model" not in cols:
                raise InvalidInput("--lengths", f"{path}: needs columns Output and model, has {cols}")
            for rec in reader:
                ds = dataset or (rec.get("dataset") or "").strip()
                try:
                    out = float(rec["Output"])
                except (TypeError, ValueError):
                    continue
                acc = sums.setdefault(((rec.get("model") or "").strip(), ds), [0.0, 0.0])
                acc[0] += out
                acc[1] += 1
    result: dict[LengthKey, float] = {}
    for (model, ds), (total, n) in sums.items():
        name = model
        if known and model not in known:
            candidates = [k for k in known if k.startswith(model)]
            if len(candidates) == 1:
                name = candidates[0]
                note = f"lengths: model {model!r} taken as {name!r} (a unique prefix of it)"
                if warnings is not None and note not in warnings:
                    warnings.append(note)
        result[(name, ds)] = total / n
    return result
