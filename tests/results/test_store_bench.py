"""benchmarks/store_bench.py still works (at a small N): the bulk path a million-run store is built with."""

from __future__ import annotations

import importlib.util
import json

import pytest

from tests.support.processes import ROOT
from wattsup.results import RunFilter, Store

BENCH = ROOT / "benchmarks" / "store_bench.py"


def test_store_bench_fills_a_store(store_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("store_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--n", "300", "--db", store_url, "--chunk", "128"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["added"] == 300 and result["runs_after"] == 300 and result["insert_s"] > 0
    assert bench.main(["--n", "300", "--db", store_url]) == 0  # same seed: the same runs, nothing new
    assert json.loads(capsys.readouterr().out)["added"] == 0
    with Store.open(store_url) as store:
        assert store.count() == 300
        assert 0 < store.count(RunFilter(status="failed")) < 30
        ok = store.list_runs(RunFilter(status="ok"), limit=5)
        assert all(r.energy_kwh_per_1k is not None and r.energy_kwh_per_1k > 0 for r in ok)
        assert len(store.phases_of(ok[0].run_id)) > 0
