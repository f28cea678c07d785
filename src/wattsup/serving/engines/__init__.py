"""Engines behind one small protocol (:class:`~wattsup.serving.engines.base.Engine`): in-process transformers
with static batching (``static``), transformers' continuous batching (``continuous``), and any
OpenAI-compatible HTTP server on this machine (``http``)."""

from wattsup.serving.engines.base import ENGINES, Engine, EngineInfo

__all__ = ["ENGINES", "Engine", "EngineInfo"]
