"""Synthetic inputs, deterministic given their seed: text of a drawn number of tokens (words by a Zipf law
over the synthetic vocabulary), images of noise and shapes, and audio of tones and noise. The packaged
profiles (:mod:`wattsup.bench.inputs`) say how long and how large."""

from __future__ import annotations

import functools
import hashlib
import io
import math
import random
from typing import Any

from wattsup.errors import WattsupError

TOKENS_PER_WORD = 1.1
"""Tokens per synthetic word (words plus punctuation) for the synthetic and typical real tokenizers alike."""


def seed_for(seed: int, *parts: str) -> int:
    h = hashlib.sha256("\x1f".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(h[:8], "big")


def sample_length(spec: dict[str, Any], rng: random.Random) -> float:
    """One draw from a length distribution: ``quantiles`` (21 points, 0..100%), ``lognormal``, ``uniform``."""
    if "quantiles" in spec:
        q = spec["quantiles"]
        u = rng.random() * (len(q) - 1)
        i = min(int(u), len(q) - 2)
        return float(q[i] + (q[i + 1] - q[i]) * (u - i))
    if "lognormal" in spec:
        p = spec["lognormal"]
        v = math.exp(math.log(p["median"]) + p["sigma"] * rng.gauss(0.0, 1.0))
        return float(min(max(v, p["min"]), p["max"]))
    if "uniform" in spec:
        p = spec["uniform"]
        return rng.uniform(p["min"], p["max"])
    raise WattsupError(f"unknown length distribution {sorted(spec)}")


def synthetic_text(n_tokens: float, rng: random.Random) -> str:
    """English-like text of about ``n_tokens`` tokens from the packaged word list (Zipf-weighted)."""
    from wattsup.bench.tokenizer import word_list

    words = word_list()
    weights = _zipf_weights(len(words))
    n_words = max(1, round(n_tokens / TOKENS_PER_WORD))
    chosen = rng.choices(words, cum_weights=weights, k=n_words)
    out: list[str] = []
    start = True
    for i, w in enumerate(chosen):
        out.append(w.capitalize() if start else w)
        start = False
        if i < n_words - 1 and rng.random() < 0.07:
            out[-1] += ","
        elif rng.random() < 0.06 or i == n_words - 1:
            out[-1] += "."
            start = True
    return " ".join(out)


@functools.cache
def _zipf_weights(n: int) -> list[float]:
    acc, out = 0.0, []
    for r in range(1, n + 1):
        acc += 1.0 / r
        out.append(acc)
    return out


def synthetic_image(width: int, height: int, rng: random.Random) -> bytes:
    """A smooth random colour image (a photo-like spectrum, not noise), JPEG-encoded at quality 95."""
    import numpy as np
    from PIL import Image

    gen = np.random.default_rng(rng.getrandbits(63))
    small = gen.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    img = Image.fromarray(small, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    arr = np.asarray(img, dtype=np.int16) + gen.integers(-12, 13, size=(height, width, 3), dtype=np.int16)
    buf = io.BytesIO()
    Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB").save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def synthetic_audio(duration_s: float, sampling_rate: int, rng: random.Random) -> Any:
    """Speech-like audio: a few voiced harmonics with a syllable-rate envelope and a little noise, float32."""
    import numpy as np

    gen = np.random.default_rng(rng.getrandbits(63))
    t = np.arange(int(duration_s * sampling_rate), dtype=np.float32) / sampling_rate
    f0 = gen.uniform(90, 220)
    sig = sum((0.6 / k) * np.sin(2 * np.pi * f0 * k * t + gen.uniform(0, 6.28)) for k in range(1, 6))
    env = 0.5 * (1 + np.sin(2 * np.pi * gen.uniform(3, 5) * t))
    noise = 0.02 * gen.standard_normal(t.shape[0])
    return (0.3 * sig * env + noise).astype(np.float32)
