"""The command-line tests: an isolated environment (no user store, offline hub, quiet model libraries).
Stores, PostgreSQL databases and the dashboard served on loopback come from tests/conftest.py."""

import pytest


@pytest.fixture(autouse=True)
def _isolated(no_user_store: None, quiet_warnings: None) -> None:
    """Tests never touch the user's real store, and the model hub is offline."""
