"""benchmarks/multi_gpu_bench.py --smoke: the 2-GPU benchmark's plumbing on the CPU (nothing is scored)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "multi_gpu_bench.py"


@pytest.mark.slow
def test_the_smoke_run_goes_through_every_part(tmp_path: Path) -> None:
    env = {**os.environ, "OUT": str(tmp_path), "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((tmp_path / "multi_gpu_bench.json").read_text())
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
    assert "(c) sweep of 4 runs" in proc.stdout
