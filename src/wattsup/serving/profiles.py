"""Packaged prompt profiles (``data/serving/profiles.json``) and the seeded synthetic requests drawn from
them.

A profile gives the input and output length distributions of one kind of served request (chat,
summarisation, reasoning). Requests are made offline: lengths are drawn from the profile's lognormals and
each prompt is that many words from the packaged word list (drawn with Zipf weights, so the text looks like
English to a tokenizer); the engine cuts the tokenised prompt to the drawn length.
"""

from __future__ import annotations

import functools
import json
import math
import random
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

from wattsup.errors import InvalidInput, NotFound

__all__ = ["LengthDistribution", "Profile", "ServingRequest", "get_profile", "load_profiles", "make_requests"]


class LengthDistribution(BaseModel):
    """A lognormal over token counts with the given mean, clipped to ``[min_tokens, max_tokens]``."""

    model_config = ConfigDict(frozen=True)

    mean_tokens: float = Field(gt=0)
    sigma: float = Field(ge=0)
    min_tokens: int = Field(ge=1)
    max_tokens: int = Field(ge=1)

    def draw(self, rng: random.Random, cap: int | None = None) -> int:
        mu = math.log(self.mean_tokens) - self.sigma**2 / 2
        value = round(rng.lognormvariate(mu, self.sigma))
        hi = self.max_tokens if cap is None else min(self.max_tokens, cap)
        return max(min(self.min_tokens, hi), min(value, hi))


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    input: LengthDistribution
    output: LengthDistribution
    source: str


class ServingRequest(BaseModel):
    """One request of a load: its prompt text, the prompt length to keep (tokens), the tokens to generate."""

    model_config = ConfigDict(frozen=True)

    index: int
    prompt: str
    input_tokens: int = Field(ge=1)
    max_new_tokens: int = Field(ge=1)


@functools.cache
def load_profiles() -> dict[str, Profile]:
    raw = json.loads(
        resources.files("wattsup.data").joinpath("serving/profiles.json").read_text(encoding="utf-8")
    )
    return {p["name"]: Profile.model_validate(p) for p in raw["profiles"]}


def get_profile(name: str) -> Profile:
    profiles = load_profiles()
    if name not in profiles:
        raise NotFound("profile", name, profiles, hint=f"Packaged profiles: {', '.join(profiles)}.")
    return profiles[name]


@functools.cache
def _words() -> tuple[tuple[str, ...], tuple[float, ...]]:
    from wattsup.bench.tokenizer import word_list

    words = word_list()
    return words, tuple(1.0 / (rank + 1) for rank in range(len(words)))  # Zipf's law over the frequency order


def make_requests(
    profile: Profile,
    n: int,
    seed: int,
    *,
    max_input_tokens: int | None = None,
    max_output_tokens: int | None = None,
) -> list[ServingRequest]:
    """``n`` requests drawn from ``profile`` with ``seed`` (the same seed gives the same requests). The caps
    clip the drawn lengths further (a small model's context, a quick run) and are recorded by the caller."""
    if n < 1:
        raise InvalidInput("requests", f"must be at least 1, got {n}")
    for flag, cap in (("max-input-tokens", max_input_tokens), ("max-output-tokens", max_output_tokens)):
        if cap is not None and cap < 1:
            raise InvalidInput(flag, f"must be at least 1, got {cap}")
    rng = random.Random(seed)
    words, weights = _words()
    out = []
    for i in range(n):
        n_in = profile.input.draw(rng, max_input_tokens)
        n_out = profile.output.draw(rng, max_output_tokens)
        text = " ".join(rng.choices(words, weights=weights, k=n_in))
        out.append(ServingRequest(index=i, prompt=text, input_tokens=n_in, max_new_tokens=n_out))
    return out
