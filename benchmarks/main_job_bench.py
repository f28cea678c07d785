"""The main job's wall time: ``wattsup suite quick`` with warm workers (forked from the fork server, the
default) against cold ones (``WATTSUP_COLD_WORKERS=1``: a fresh interpreter that imports torch and
transformers for every run, as before the fork server), alternated so that both see the same load.

    .venv/bin/python benchmarks/main_job_bench.py [--rounds 1] [--out benchmarks/results/FILE.json]

Each suite runs offline into a fresh SQLite store. Prints, per variant, each round's wall time, the time
the runs spent inside their windows (from each record's start to its end: model load, inputs, warm-up and
repetitions) and the rest (interpreter, imports, fork, storing); the load average before each suite is
kept, since a shared host's load changes the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def one_suite(cold: bool, db: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WATTSUP_COLD_WORKERS": "1" if cold else "0",
    }
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "wattsup", "suite", "quick", "--db", str(db), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - t0
    from wattsup.results import RunFilter, Store

    with Store.open(str(db)) as store:
        runs = [store.get(r.run_id) for r in store.list_runs(RunFilter(), limit=100)]
    inside = sum((r.finished_at - r.started_at).total_seconds() for r in runs if r.finished_at is not None)
    return {
        "variant": "cold" if cold else "warm",
        "wall_s": round(wall, 2),
        "inside_runs_s": round(inside, 2),
        "outside_runs_s": round(wall - inside, 2),
        "runs": len(runs),
        "ok": sum(r.status == "ok" for r in runs),
        "exit_code": proc.returncode,
        "load_avg_1min_before": round(load, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for r in range(args.rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            for cold in order:
                row = one_suite(cold, Path(d, f"r{r}-{'cold' if cold else 'warm'}.db"))
                rows.append(row)
                print(json.dumps(row), flush=True)
    summary = {
        v: {
            "median_wall_s": statistics.median(x["wall_s"] for x in rows if x["variant"] == v),
            "median_outside_runs_s": statistics.median(
                x["outside_runs_s"] for x in rows if x["variant"] == v
            ),
        }
        for v in ("warm", "cold")
    }
    print(json.dumps(summary))
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": f"{platform.node()}, {os.cpu_count()} CPUs",
                    "rows": rows,
                    "summary": summary,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
