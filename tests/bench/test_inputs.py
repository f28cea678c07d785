"""Inputs: synthetic profiles (deterministic, matched to the study's datasets), local files, Hub guard."""

from __future__ import annotations

import json
import statistics
import wave
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wattsup.bench import inputs
from wattsup.bench.inputs import resolve_inputs
from wattsup.bench.tokenizer import synthetic_tokenizer
from wattsup.errors import InvalidInput, NotFound, WattsupError

STUDY_PAIRS = {
    "text-classification": {"imdb", "rotten_tomatoes", "sst2"},
    "token-classification": {"record", "wikiann", "conll2003"},
    "question-answering": {"squad", "squad_v2", "sciq"},
    "fill-mask": {"bookcorpus", "c4", "oscar"},
    "text-generation": {"wikitext", "bookcorpus", "oscar"},
    "summarization": {"samsum", "cnn_dailymail", "xsum"},
    "image-classification": {"cifar10", "cifar100", "imagenet-1k"},
    "object-detection": {"visual_genome", "cppe-5", "coco"},
    "image-to-text": {"visual_genome", "red_caps", "coco"},
    "text-to-image": {"diffusiondb", "imagereward", "sd_prompts"},
}


def test_a_profile_for_each_of_the_studys_30_task_dataset_pairs() -> None:
    profiles = inputs.load_profiles()
    pairs = {(t, p.name) for p in profiles.values() for t in p.tasks}
    want = {(t, d) for t, ds in STUDY_PAIRS.items() for d in ds}
    assert len(want) == 30
    assert want <= pairs
    for p in profiles.values():
        for spec in p.lengths.values():
            assert spec["source"]


def test_same_seed_same_examples_other_seed_others() -> None:
    a = resolve_inputs("sst2", ("text",), "text-classification", 5, seed=1)
    b = resolve_inputs("sst2", ("text",), "text-classification", 5, seed=1)
    c = resolve_inputs("sst2", ("text",), "text-classification", 5, seed=2)
    assert a.examples == b.examples
    assert a.examples != c.examples
    assert a.kind == "synthetic" and "sst2" in a.source and "seed 1" in a.source


def test_synthetic_lengths_follow_the_profile() -> None:
    tok = synthetic_tokenizer(2000, "gpt2", {"eos": 1999})
    short = resolve_inputs("sst2", ("text",), "x", 200, seed=0).examples
    long = resolve_inputs("cnn_dailymail", ("text",), "x", 40, seed=0).examples
    median_short = statistics.median(len(tok(e["text"])["input_ids"]) for e in short)
    median_long = statistics.median(len(tok(e["text"])["input_ids"]) for e in long)
    q = inputs.get_profile("sst2").lengths["text"]["quantiles"]
    assert 0.7 * q[10] <= median_short <= 1.3 * q[10]
    assert 0.7 * 760 <= median_long <= 1.3 * 760


def test_images_are_encoded_at_the_studys_size_and_audio_is_16k() -> None:
    ex = resolve_inputs("cifar10", ("image",), "image-classification", 2, seed=0).examples
    img = Image.open(__import__("io").BytesIO(ex[0]["image"]))
    assert img.size == (640, 480) and img.format == "JPEG"
    audio = resolve_inputs("librispeech", ("audio",), "asr", 2, seed=0).examples
    assert audio[0]["sampling_rate"] == 16000
    assert audio[0]["audio"].dtype == np.float32 and 1.3 * 16000 <= len(audio[0]["audio"]) <= 35 * 16000


def test_profile_without_a_needed_field_names_it() -> None:
    with pytest.raises(InvalidInput, match="'image'"):
        resolve_inputs("imdb", ("image",), "image-classification", 2, seed=0)


def test_unknown_dataset_lists_close_matches() -> None:
    with pytest.raises(NotFound) as err:
        resolve_inputs("imbd", ("text",), "text-classification", 2, seed=0)
    assert "imdb" in err.value.suggestions


def test_hub_needs_the_network() -> None:
    with pytest.raises(WattsupError, match="HF_HUB_OFFLINE"):
        resolve_inputs("hub:imdb", ("text",), "text-classification", 2, seed=0)


def test_local_csv_jsonl_parquet(tmp_path: Path) -> None:
    rows = [{"review": f"great film number {i}", "stars": i} for i in range(5)]
    (tmp_path / "r.csv").write_text("review,stars\n" + "\n".join(f"{r['review']},{r['stars']}" for r in rows))
    (tmp_path / "r.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "r.parquet")
    for name in ("r.csv", "r.jsonl", "r.parquet"):
        s = resolve_inputs(str(tmp_path / name), ("text",), "text-classification", 3, seed=0)
        assert [e["text"] for e in s.examples] == [r["review"] for r in rows[:3]]
        assert s.kind == "local" and "first 3 rows" in s.source


def test_local_missing_column_is_named_and_can_be_mapped(tmp_path: Path) -> None:
    (tmp_path / "q.jsonl").write_text(json.dumps({"q": "who?", "ctx": "nobody"}) + "\n")
    with pytest.raises(InvalidInput, match="'question'"):
        resolve_inputs(str(tmp_path / "q.jsonl"), ("question", "context"), "question-answering", 1, seed=0)
    s = resolve_inputs(
        str(tmp_path / "q.jsonl"),
        ("question", "context"),
        "question-answering",
        1,
        seed=0,
        columns={"question": "q", "context": "ctx"},
    )
    assert s.examples[0] == {"question": "who?", "context": "nobody"}


def test_local_image_and_wav_folders(tmp_path: Path) -> None:
    for i in range(3):
        Image.new("RGB", (50 + i, 40), (i * 50, 0, 0)).save(tmp_path / f"{i}.png")
    imgs = resolve_inputs(str(tmp_path), ("image",), "image-classification", 2, seed=0, resize=False)
    assert len(imgs) == 2 and Image.open(__import__("io").BytesIO(imgs.examples[1]["image"])).size == (51, 40)
    wav = tmp_path / "a.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((np.ones((8000, 2), dtype=np.int16) * 16384).tobytes())
    snd = resolve_inputs(str(tmp_path), ("audio",), "asr", 5, seed=0)
    assert len(snd) == 1
    assert len(snd.examples[0]["audio"]) == 16000
    assert snd.examples[0]["audio"][100] == pytest.approx(0.5)
