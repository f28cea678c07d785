"""The dashboard's pages: server-rendered HTML from Jinja2 templates (``wattsup/web/templates``), with
charts that ``app.js`` renders from ``/api/figures/`` (each figure defined once, on the server). Each
page calls the same views as its API endpoint, builds a small view model and renders one template."""

from __future__ import annotations

from fastapi import APIRouter

from wattsup.web.pages import compare, docs, label, leaderboard, lifecycle, runs, serving, study
from wattsup.web.pages.render import error_page

__all__ = ["error_page", "router"]

router = APIRouter(include_in_schema=False)
for _module in (study, leaderboard, runs, compare, lifecycle, serving, label, docs):
    router.include_router(_module.router)
