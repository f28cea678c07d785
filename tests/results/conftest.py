"""Store tests run on a SQLite file and on a real PostgreSQL server (``store``, ``store_url``:
tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _isolated(no_user_store: None) -> None:
    """Tests never touch the user's real store."""
