"""benchmarks/multi_gpu_bench.py --smoke: the 2-GPU benchmark's plumbing on the CPU (nothing is scored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.processes import ROOT, smoke_benchmark

pytest.importorskip("torch")

SCRIPT = ROOT / "benchmarks" / "multi_gpu_bench.py"


@pytest.mark.slow
def test_the_smoke_run_goes_through_every_part(tmp_path: Path) -> None:
    report, printed = smoke_benchmark("multi_gpu_bench", tmp_path)
    assert report["smoke"] is True and report["devices"] == ["cpu", "cpu"]
    a = report["a"]
    assert a["per_gpu"] is None and a["note"] == "smoke: no NVML, not scored"
    assert a["windows"] and all("cpu" in w["components"] for w in a["windows"])
    one, two = report["b"]["one"], report["b"]["two"]
    assert "error" not in one and "error" not in two, (one.get("error"), two.get("error"))
    assert (one["device"], two["device"]) == ("cpu", "cpu,cpu")
    for r in (one, two):
        (lv,) = r["levels"]
        assert lv["level"] == "concurrency=2" and lv["j_per_output_token"]["value"] > 0
    c = report["c"]
    assert c["one_gpu"]["ok"] == c["all_gpus"]["ok"] == 4 and c["speedup"] is not None
    assert "(c) sweep of 4 runs" in printed


def test_each_gpu_is_scored_against_its_own_oracle() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("multi_gpu_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    windows = [
        {"a": 0.0, "b": 1.0, "gpus": {"gpu:0": (310.0, 20.0), "gpu:3": (95.0, 2.0)}},
        {"a": 5.0, "b": 8.0, "gpus": {"gpu:0": (900.0, 20.0), "gpu:3": (300.0, 2.0)}},
    ]
    watts = {0: 300.0, 3: 100.0}  # GPU 0 loaded, GPU 3 barely
    out = bench.score(windows, lambda i, a, b: watts[i] * (b - a))
    assert out["gpu:0"] == {
        "windows": 2,
        "median_abs_error_pct": pytest.approx(100 * (10 / 300 + 0) / 2, abs=1e-3),
        "p95_abs_error_pct": pytest.approx(100 * 10 / 300, abs=1e-3),
        "bound_coverage": 1.0,
    }
    assert (
        out["gpu:3"]["median_abs_error_pct"] == pytest.approx(2.5) and out["gpu:3"]["bound_coverage"] == 0.5
    )
