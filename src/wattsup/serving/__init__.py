"""Serving energy: joules per output token of an LLM under real load (``wattsup serve``).

Packaged prompt profiles (:mod:`~wattsup.serving.profiles`), a load generator with closed-loop concurrency
levels and open-loop Poisson rates whose steady-state window is a Meter phase (:mod:`~wattsup.serving.load`),
engines behind one protocol (:mod:`~wattsup.serving.engines`: static batching, continuous batching, any
OpenAI-compatible HTTP server), and per-level figures with their methods (:mod:`~wattsup.serving.metrics`).
torch, transformers and httpx are imported inside the engines that use them.
"""

from wattsup.serving.load import LoadLevel, parse_levels
from wattsup.serving.profiles import get_profile, load_profiles, make_requests
from wattsup.serving.results import LevelResult, ServingResult
from wattsup.serving.runner import ServeConfig, build_engine, run_serving

__all__ = [
    "LevelResult",
    "LoadLevel",
    "ServeConfig",
    "ServingResult",
    "build_engine",
    "get_profile",
    "load_profiles",
    "make_requests",
    "parse_levels",
    "run_serving",
]
