"""Analyses run on stores on a SQLite file and (with ``WATTSUP_TEST_PG_URL``) a real PostgreSQL server
(``store``, ``sqlite_store``: tests/conftest.py), filled with records of chosen energies (tests/support)."""

import pytest


@pytest.fixture(autouse=True)
def _isolated(no_user_store: None) -> None:
    """Tests never touch the user's real store."""
