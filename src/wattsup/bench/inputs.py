"""Inputs of a run: a packaged synthetic profile (offline, deterministic given the seed), a local file or
folder (CSV, JSONL, Parquet, images, WAV audio), or a Hub dataset (the first N rows of a split, streamed, as
the study did; online only).

Every example is a dict of fields that tasks name: ``text``, ``text_pair``, ``question``, ``context``,
``image`` (encoded image bytes, decoded by the task's preprocess phase, as a dataset's image column is decoded
on access) and ``audio`` (float32 samples at ``sampling_rate``).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import random
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from wattsup.bench.synthetic import (
    sample_length,
    seed_for,
    synthetic_audio,
    synthetic_image,
    synthetic_text,
)
from wattsup.errors import InvalidInput, NotFound, WattsupError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")
AUDIO_EXTENSIONS = (".wav",)
STUDY_IMAGE_SIZE = (640, 480)

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "sentence",
        "sentence1",
        "review",
        "content",
        "document",
        "article",
        "dialogue",
        "passage",
        "prompt",
        "Prompt",
        "tokens",
        "input",
    ),
    "text_pair": ("text_pair", "sentence2", "sentence_b", "pair"),
    "question": ("question", "query"),
    "context": ("context", "passage", "support", "document"),
    "image": ("image", "img", "image_path", "path", "file", "filename"),
    "audio": ("audio", "path", "file", "filename"),
}
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "text": ("text",),
    "pair": ("text", "text_pair"),
    "qa": ("question", "context"),
    "image": ("image",),
    "audio": ("audio",),
}


@dataclass(frozen=True)
class Profile:
    """A packaged synthetic stand-in for one dataset."""

    name: str
    aliases: tuple[str, ...]
    tasks: tuple[str, ...]
    kind: str
    hub: dict[str, Any] | None
    lengths: dict[str, dict[str, Any]] = field(default_factory=dict)
    image: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    notes: str = ""

    @property
    def fields(self) -> tuple[str, ...]:
        return KIND_FIELDS[self.kind]


@dataclass
class InputSet:
    """The examples of a run and where they came from (``source`` goes into the record's provenance)."""

    examples: Sequence[dict[str, Any]]
    source: str
    kind: str  # "synthetic", "local" or "hub"

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.examples[i % len(self.examples)]


@functools.cache
def load_profiles() -> dict[str, Profile]:
    raw = json.loads(
        resources.files("wattsup.data").joinpath("bench/datasets.json").read_text(encoding="utf-8")
    )
    out: dict[str, Profile] = {}
    for p in raw["profiles"]:
        out[p["name"]] = Profile(
            name=p["name"],
            aliases=tuple(p.get("aliases", ())),
            tasks=tuple(p["tasks"]),
            kind=p["kind"],
            hub=p.get("hub"),
            lengths=p.get("lengths", {}),
            image=p.get("image"),
            audio=p.get("audio"),
            notes=p.get("notes", ""),
        )
    return out


def local_path(name: str) -> Path | None:
    """``name`` as an existing local file or folder, else None (also for a name too long to be a path:
    a name is never trusted to be a valid file name)."""
    try:
        path = Path(name).expanduser()
        return path if path.exists() else None
    except (OSError, ValueError):  # ENAMETOOLONG, embedded NUL
        return None


def find_profile(name: str) -> Profile | None:
    profiles = load_profiles()
    low = name.lower()
    for p in profiles.values():
        if low == p.name.lower() or low in (a.lower() for a in p.aliases):
            return p
    return None


def get_profile(name: str) -> Profile:
    p = find_profile(name)
    if p is None:
        raise NotFound(
            "dataset",
            name,
            list(load_profiles()),
            hint="Give a profile name ('wattsup tasks' lists them), a local path, or hub:ID.",
        )
    return p


def profile_for(name: str, task: str, fields: Sequence[str]) -> Profile:
    """The profile ``name``, which must have every field ``task`` reads."""
    profile = get_profile(name)
    missing = [f for f in fields if f not in profile.fields]
    if missing:
        fitting = ", ".join(p.name for p in load_profiles().values() if task in p.tasks)
        raise InvalidInput(
            "dataset",
            f"profile {profile.name!r} has no {', '.join(repr(m) for m in missing)} field, which task "
            f"{task!r} needs (it has {', '.join(profile.fields)}); profiles for it: {fitting}",
        )
    return profile


DEFAULT_DATASETS = {"text-generation": "wikitext"}
"""Tasks whose first study dataset is not the first profile that lists them."""


def default_dataset(task: str) -> str:
    """The task's first dataset in the study's table (or its own profile, beyond the study)."""
    if task in DEFAULT_DATASETS:
        return DEFAULT_DATASETS[task]
    for p in load_profiles().values():
        if task in p.tasks:
            return p.name
    raise NotFound("task", task, sorted({t for p in load_profiles().values() for t in p.tasks}))


# ------------------------------------------------------------------------------------------ sampling
def synthetic_examples(profile: Profile, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` examples drawn from ``profile``; the same seed gives the same examples, byte for byte."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        rng = random.Random(seed_for(seed, profile.name, str(i)))
        ex: dict[str, Any] = {}
        if profile.kind in ("text", "pair", "qa"):
            for fld in profile.fields:
                ex[fld] = synthetic_text(sample_length(profile.lengths[fld], rng), rng)
        elif profile.kind == "image":
            assert profile.image is not None
            ex["image"] = synthetic_image(int(profile.image["width"]), int(profile.image["height"]), rng)
        elif profile.kind == "audio":
            assert profile.audio is not None
            sr = int(profile.audio["sampling_rate"])
            ex["audio"] = synthetic_audio(sample_length(profile.audio["duration_s"], rng), sr, rng)
            ex["sampling_rate"] = sr
        out.append(ex)
    return out


# --------------------------------------------------------------------------------------- resolution
def resolve_inputs(
    dataset: str,
    task_fields: tuple[str, ...],
    task: str,
    n: int,
    seed: int,
    *,
    columns: dict[str, str] | None = None,
    resize: bool = True,
) -> InputSet:
    """The first ``n`` examples of ``dataset`` for a task that needs ``task_fields``.

    ``dataset``: a profile name or alias (synthetic), an existing local path, or ``hub:ID[:CONFIG][@SPLIT]``
    (also ``hub:PROFILE`` for the study's dataset behind a profile). ``columns`` maps a field to a column.
    """
    if dataset.startswith("hub:"):
        return _hub_inputs(dataset[4:], task_fields, n, columns or {}, resize)
    path = local_path(dataset)
    if path is not None:
        return _local_inputs(path, task_fields, n, columns or {}, resize)
    profile = profile_for(dataset, task, task_fields)
    examples = synthetic_examples(profile, n, seed)
    return InputSet(
        examples,
        f"synthetic profile {profile.name!r} (wattsup packaged statistics, seed {seed}, {n} rows)",
        "synthetic",
    )


def _pick_columns(
    available: list[str], task_fields: tuple[str, ...], columns: dict[str, str], where: str
) -> dict[str, str]:
    chosen: dict[str, str] = {}
    for fld in task_fields:
        if fld in columns:
            if columns[fld] not in available:
                raise InvalidInput(
                    "column",
                    f"{where} has no column {columns[fld]!r} (for {fld!r}); it has {', '.join(available)}",
                )
            chosen[fld] = columns[fld]
            continue
        for alias in COLUMN_ALIASES.get(fld, (fld,)):
            if alias in available and alias not in chosen.values():
                chosen[fld] = alias
                break
        else:
            raise InvalidInput(
                "dataset",
                f"{where} has no column for {fld!r} (looked for "
                f"{', '.join(COLUMN_ALIASES.get(fld, (fld,)))}); it has "
                f"{', '.join(available)}. Map one with --column {fld}=NAME",
            )
    return chosen


def _as_text(v: Any) -> str:
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    return "" if v is None else str(v)


def _encode_image(img: Any, resize: bool) -> bytes:
    from PIL import Image

    if isinstance(img, bytes | bytearray) and not resize:
        return bytes(img)
    if isinstance(img, bytes | bytearray):
        img = Image.open(io.BytesIO(img))
    if isinstance(img, dict):
        if img.get("bytes") is not None and not resize:
            return bytes(img["bytes"])
        img = (
            Image.open(io.BytesIO(img["bytes"])) if img.get("bytes") is not None else Image.open(img["path"])
        )
    if isinstance(img, str | Path):
        if not resize:
            return Path(img).read_bytes()
        img = Image.open(img)
    img = img.convert("RGB")
    if resize:  # as the study did before its query window: nearest-neighbour to 640x480
        img = img.resize(STUDY_IMAGE_SIZE, resample=Image.Resampling.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def read_wav(path: Path, sampling_rate: int = 16000) -> Any:
    """Mono float32 samples of a PCM WAV file, linearly resampled to ``sampling_rate``."""
    import numpy as np

    with wave.open(str(path), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        frames = w.readframes(w.getnframes())
    if width not in (1, 2, 4):
        raise InvalidInput(
            "dataset", f"{path}: {8 * width}-bit WAV is not supported (use 8, 16 or 32-bit PCM)"
        )
    dtype = {1: np.uint8, 2: np.int16, 4: np.int32}[width]
    x = np.frombuffer(frames, dtype=dtype).astype(np.float32)
    x = (x - 128.0) / 128.0 if width == 1 else x / float(2 ** (8 * width - 1))
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    if rate != sampling_rate and len(x) > 1:
        n_out = int(len(x) * sampling_rate / rate)
        x = np.interp(np.linspace(0, len(x) - 1, n_out), np.arange(len(x)), x).astype(np.float32)
    return x


def _local_inputs(
    path: Path, task_fields: tuple[str, ...], n: int, columns: dict[str, str], resize: bool
) -> InputSet:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        if "image" in task_fields:
            imgs = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS][:n]
            if not imgs:
                raise InvalidInput("dataset", f"{path} holds no image files ({', '.join(IMAGE_EXTENSIONS)})")
            return InputSet(
                [{"image": _encode_image(p, resize)} for p in imgs],
                f"local image folder {path} (first {len(imgs)} files in name order"
                f"{', resized to 640x480' if resize else ''})",
                "local",
            )
        if "audio" in task_fields:
            wavs = [p for p in files if p.suffix.lower() in AUDIO_EXTENSIONS][:n]
            if not wavs:
                raise InvalidInput(
                    "dataset", f"{path} holds no .wav files (other audio formats: convert to WAV)"
                )
            return InputSet(
                [{"audio": read_wav(p), "sampling_rate": 16000} for p in wavs],
                f"local audio folder {path} (first {len(wavs)} WAV files in name order, 16 kHz)",
                "local",
            )
        raise InvalidInput("dataset", f"{path} is a folder; text tasks need a CSV, JSONL or Parquet file")
    rows = _read_table(path, n)
    if not rows:
        raise InvalidInput("dataset", f"{path} has no rows")
    chosen = _pick_columns(list(rows[0]), task_fields, columns, str(path))

    def beside(v: Any) -> Path:  # a file named in the table, relative to the table's folder
        p = Path(str(v))
        return p if p.is_absolute() else path.parent / p

    examples = _examples(
        rows,
        chosen,
        image=lambda v: _encode_image(beside(v), resize),
        audio=lambda v: (read_wav(beside(v)), 16000),
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return InputSet(
        examples,
        f"local file {path} (sha256 {digest}, first {len(examples)} rows, columns {chosen})",
        "local",
    )


def _read_table(path: Path, n: int) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        import csv

        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, delimiter="\t" if suffix == ".tsv" else ",")
            return [dict(r) for _, r in zip(range(n), reader, strict=False)]
    if suffix in (".jsonl", ".ndjson"):
        out = []
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    out.append(json.loads(line))
                if len(out) >= n:
                    break
        return out
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, list):
            raise InvalidInput("dataset", f"{path}: a JSON file must hold a list of objects (or use JSONL)")
        return [dict(r) for r in data[:n]]
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return [dict(r) for r in table.slice(0, n).to_pylist()]
    raise InvalidInput(
        "dataset",
        f"{path}: unsupported file type {suffix!r} (use CSV, TSV, JSONL, JSON or "
        "Parquet, or a folder of images or WAV files)",
    )


def _hub_inputs(
    spec: str, task_fields: tuple[str, ...], n: int, columns: dict[str, str], resize: bool
) -> InputSet:
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        raise WattsupError(
            f"hub:{spec} needs the network, but HF_HUB_OFFLINE is set; use a synthetic profile "
            "or a local file instead"
        )
    split = None
    if "@" in spec:
        spec, split = spec.rsplit("@", 1)
    profile = find_profile(spec)
    config = None
    if profile is not None:
        if profile.hub is None:
            raise InvalidInput("dataset", f"{profile.name}: {profile.notes or 'no Hub source is recorded'}")
        ds_id, config = profile.hub["id"], profile.hub.get("config")
        split = split or profile.hub["split"]
        columns = {**profile.hub.get("columns", {}), **columns}
    else:
        ds_id = spec
        if spec.count(":") == 1:
            ds_id, config = spec.split(":")
    split = split or "test"
    try:
        import datasets
    except ImportError as e:
        raise WattsupError("Hub datasets need the 'datasets' package: pip install 'wattsup[bench]'") from e
    try:
        stream = datasets.load_dataset(ds_id, config, split=split, streaming=True)
        if "image" in task_fields:
            img_col = columns.get("image", "image")
            if img_col in (stream.features or {}):
                stream = stream.cast_column(img_col, datasets.Image(decode=False))
        rows = [dict(r) for r in stream.take(n)]
    except Exception as e:  # the datasets library raises many types for a missing or gated dataset
        raise WattsupError(
            f"could not stream {ds_id!r} ({config or 'default'}, split {split!r}) from the Hub: "
            f"{type(e).__name__}: {e}"
        ) from e
    if not rows:
        raise InvalidInput("dataset", f"{ds_id} split {split!r} has no rows")
    chosen = _pick_columns(list(rows[0]), task_fields, columns, f"hub dataset {ds_id!r}")
    examples = _examples(rows, chosen, image=lambda v: _encode_image(v, resize), audio=_hub_audio)
    return InputSet(
        examples,
        f"hub dataset {ds_id!r} config {config!r} split {split!r}, first {len(examples)} "
        f"rows (streamed){', images resized to 640x480' if resize else ''}",
        "hub",
    )


def _hub_audio(v: Any) -> tuple[Any, int]:
    """A Hub audio cell (``{"array": ..., "sampling_rate": ...}``, or the samples alone at 16 kHz)."""
    if isinstance(v, dict):
        return v.get("array", v), int(v.get("sampling_rate", 16000))
    return v, 16000


def _examples(
    rows: list[dict[str, Any]],
    chosen: dict[str, str],
    *,
    image: Callable[[Any], Any],
    audio: Callable[[Any], tuple[Any, int]],
) -> list[dict[str, Any]]:
    """One example per row: each task field from its chosen column, images and audio read by the
    source's own readers (``audio`` gives the samples and their rate), text as text."""
    examples = []
    for r in rows:
        ex: dict[str, Any] = {}
        for fld, col in chosen.items():
            v = r[col]
            if fld == "image":
                ex["image"] = image(v)
            elif fld == "audio":
                ex["audio"], ex["sampling_rate"] = audio(v)
            else:
                ex[fld] = _as_text(v)
        examples.append(ex)
    return examples
