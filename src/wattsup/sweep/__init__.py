"""Sweeps: a YAML matrix of benchmark configurations, expanded, validated, resumed against the results
store, and run locally (one at a time, each in its own subprocess) or on Ray (one task per run).

    from wattsup.sweep import load_sweep, plan, run_sweep
    result = run_sweep("examples/sweeps/tiny.yaml", executor="ray", db="runs.db")
    print(result.ok, result.failed)

Ray is imported only by the Ray executor (``pip install 'wattsup[ray]'``).
"""

from __future__ import annotations

from wattsup.sweep.api import plan, run_sweep
from wattsup.sweep.execute import EXECUTORS, Outcome, Plan, Reporter, RunOptions, SweepResult
from wattsup.sweep.expand import Expansion, expand, expand_text, load_sweep
from wattsup.sweep.spec import Problem, SweepFile, SweepFileError

__all__ = [
    "EXECUTORS",
    "Expansion",
    "Outcome",
    "Plan",
    "Problem",
    "Reporter",
    "RunOptions",
    "SweepFile",
    "SweepFileError",
    "SweepResult",
    "expand",
    "expand_text",
    "load_sweep",
    "plan",
    "run_sweep",
]
