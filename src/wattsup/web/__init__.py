"""The dashboard (``wattsup dashboard``): a read-only FastAPI app over a results store, with pages
(leaderboards, the study's figures, runs, comparisons, the life-cycle calculator, serving runs, energy
labels) and the JSON API under ``/api/`` they are drawn from. Fully offline: plotly.js and the
stylesheet are served from the installed packages.

Thin by design: every figure comes from :mod:`wattsup.analysis`, :mod:`wattsup.results` and
:mod:`wattsup.carbon`; this package validates requests, calls them and renders the answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wattsup.lazy import lazy_exports

if TYPE_CHECKING:
    from wattsup.web.app import create_app

__all__ = ["create_app"]

__getattr__ = lazy_exports(__name__, {"create_app": "wattsup.web.app"})
