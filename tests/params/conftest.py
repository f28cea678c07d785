"""The parameter models bound to the command line and the dashboard: an isolated environment (no user
store, offline hub, quiet model libraries), as for the command-line tests."""

import pytest


@pytest.fixture(autouse=True)
def _isolated(no_user_store: None, quiet_warnings: None) -> None:
    """Tests never touch the user's real store, and the model hub is offline."""
