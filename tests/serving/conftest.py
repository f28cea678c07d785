"""Fixtures of the serving tests: offline, a store in a temp dir, a tiny random-weight causal LM saved to a
folder, and a real OpenAI-compatible server process serving it on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.openai_server import ServerFailed, save_model, start_server
from tests.support.processes import Server, free_port, stop


@pytest.fixture(autouse=True)
def _isolated(scratch_default_store: None, quiet_warnings: None) -> None:
    """The default store is the test's own, and the model hub is offline."""


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiny/llama-chat with random weights and wattsup's synthetic tokenizer, saved with save_pretrained."""
    out = tmp_path_factory.mktemp("tiny-llama")
    save_model(out)
    return out


@pytest.fixture(scope="module")
def openai_server(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server process: ``transformers serve`` where it can run, else tests/fakes/openai_server.py."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    try:
        server = start_server(tiny_model_dir, free_port(), log)
    except ServerFailed as e:
        pytest.fail(str(e))
    try:
        yield server
    finally:
        stop(server.proc, 20)
