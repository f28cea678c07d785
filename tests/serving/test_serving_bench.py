"""benchmarks/serving_bench.py --smoke: the GPU benchmark's code path on the CPU, in seconds."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.processes import smoke_benchmark

pytest.importorskip("torch")


@pytest.mark.slow
def test_the_smoke_run_writes_both_engines_at_levels_1_and_2(tmp_path: Path) -> None:
    report, printed = smoke_benchmark("serving_bench", tmp_path)
    assert report["errors"] == [] and report["device"] == "cpu"
    cells = {(r["engine"], r["level"]): r for r in report["rows"]}
    assert set(cells) == {(e, lv) for e in ("static", "continuous") for lv in ("c=1", "c=2")}
    for r in cells.values():
        assert r["model"] == "tiny/gpt2" and r["failed"] == 0
        assert r["j_per_output_token"] > 0 and r["method"] == "modeled"  # a CPU-only host: modelled, said so
        assert r["prefill_j"] > 0 and r["decode_j"] > 0  # phases (static) or derived (continuous)
        assert r["boundary_ratio"] is None and r["life_cycle_note"].startswith("no GPU is metered")
    assert len(report["runs"]) == 4 and all(run["provenance"]["sensors"] for run in report["runs"])
    assert "J/token" in printed
