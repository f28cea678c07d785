"""Time ``wattsup summary`` over a million stored runs and ``wattsup report`` over ten thousand (issue 5).

1. The summary store: ``--runs`` rows (default 1,000,000) in a SQLite file, written by a fast bulk insert
   (one DBAPI ``executemany`` per 20,000 rows). Each row is the ``runs`` row of a real record (built by
   ``store_bench.synthetic_record``: 3 repetitions with phases, a load window, provenance) with its own run
   id, task, model, dataset (and so configuration hash: ~11,500 configurations) and energy figures drawn at
   random; its ``run_records`` row holds the template record's JSON (valid and of realistic size, ~5 kB),
   so both tables have the size a real store of that many runs has. The ``phases`` table is left empty:
   the summary reads only the runs' headline columns.
   The file is kept (``--db``) so the insert is done once; a second call reuses it.
2. ``summary_by_task`` (the SQL of ``wattsup summary --by task``) is run 5 times; the median is reported,
   as wall time and as this process's CPU time (SQLite runs in-process: on a machine shared with other
   work, CPU time is what the query costs, wall time what it took), with the load average; and
   ``wattsup summary --json`` once end to end (a new process: import, open, query, print).
3. The report store: ``--report-runs`` (default 10,000) whole records through ``Store.add_many`` (phases
   included); ``build_report`` (HTML with plotly.js embedded, 6 PNG figures, Markdown, CSV) is timed 3 times.

    .venv/bin/python benchmarks/analysis_bench.py --db /tmp/wattsup-bench-1m.db
    .venv/bin/python benchmarks/analysis_bench.py --runs 100000 --report-runs 2000     # a quick look
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_bench import records as synthetic_records
from store_bench import synthetic_record
from wattsup.analysis import ReportOptions, Scenario, summary_by_task
from wattsup.report import build_report
from wattsup.results import Store
from wattsup.results.rows import run_row
from wattsup.results.tables import runs

MODELS_PER_TASK = 12
DATASETS = ("ds-a", "ds-b", "ds-c")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
_COLUMNS = [c.name for c in runs.columns]
_ENERGY = (
    "energy_kwh_per_1k",
    "energy_kwh_per_1k_std",
    "gpu_energy_kwh_per_1k",
    "cpu_energy_kwh_per_1k",
    "ram_energy_kwh_per_1k",
    "error_bound_kwh_per_1k",
)


def _sqlite_time(v: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DateTime text format, in UTC without zone (as tables.UTCDateTime stores it)
    return None if v is None else v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _templates(rng: random.Random) -> list[tuple[dict[str, Any], str]]:
    out = []
    for i in range(64):
        rec = synthetic_record(i, rng)
        if rec.status == "ok":
            out.append((run_row(rec), rec.model_dump_json()))
    return out


def fill_runs(store: Store, n: int, seed: int = 0, chunk: int = 20_000) -> float:
    """Insert ``n`` runs rows (see the module docs); returns the seconds it took."""
    rng = random.Random(seed)
    templates = _templates(rng)
    tasks = sorted({t["task"] for t, _ in templates})
    sql = f"INSERT INTO runs ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
    sql_records = "INSERT INTO run_records (run_id, record_json) VALUES (?, ?)"
    t0 = time.perf_counter()
    done = 0
    while done < n:
        batch = []
        blobs = []
        for i in range(done, min(n, done + chunk)):
            template, blob = rng.choice(templates)
            row = dict(template)
            task = rng.choice(tasks)
            k = rng.randrange(MODELS_PER_TASK)
            scale = (1 + k) * rng.uniform(0.8, 1.2)
            row["run_id"] = uuid.UUID(int=rng.getrandbits(128)).hex
            row["task"] = task
            row["model"] = f"{task}-model-{k:02d}"
            row["dataset"] = DATASETS[i % len(DATASETS)]
            key = f"{template['config_hash']}|{task}|{row['model']}|{row['dataset']}"
            row["config_hash"] = hashlib.sha256(key.encode()).hexdigest()[:16]
            for col in _ENERGY:
                if row[col] is not None:
                    row[col] = row[col] * scale
            started = T0 + timedelta(seconds=i)
            row["started_at"] = _sqlite_time(started)
            row["finished_at"] = _sqlite_time(started + timedelta(seconds=60))
            row["stored_at"] = _sqlite_time(row["stored_at"])
            batch.append(tuple(row[c] for c in _COLUMNS))
            blobs.append((row["run_id"], blob))
        with store.engine.begin() as conn:
            conn.exec_driver_sql(sql, batch)
            conn.exec_driver_sql(sql_records, blobs)
        done += len(batch)
        print(f"  inserted {done:,} runs ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    return time.perf_counter() - t0


def time_summary(db: str, repeats: int = 5) -> dict[str, Any]:
    with Store.open(db) as store:
        n = store.count()
        times = []
        cpu = []
        rows: list[Any] = []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            rows = summary_by_task(store)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    cli_t0 = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "wattsup"), "summary", "--by", "task", "--json", "--db", db],
        capture_output=True,
        text=True,
        check=True,
    )
    cli_s = time.perf_counter() - cli_t0
    return {
        "runs": n,
        "summary_s": [round(t, 3) for t in times],
        "summary_median_s": round(statistics.median(times), 3),
        "summary_cpu_s": [round(t, 3) for t in cpu],
        "summary_cpu_median_s": round(statistics.median(cpu), 3),
        "cli_summary_json_s": round(cli_s, 3),
        "tasks": len(rows),
        "models": sum(r.models for r in rows),
        "cli_rows": len(json.loads(proc.stdout)),
    }


def time_report(n: int, repeats: int = 3) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wattsup-report-bench-") as tmp:
        db = str(Path(tmp) / "runs.db")
        with Store.open(db) as store:
            t0 = time.perf_counter()
            store.add_many(synthetic_records(n, 1))
            insert_s = time.perf_counter() - t0
            times = []
            cpu = []
            figures = 0
            for k in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                files = build_report(
                    store,
                    Path(tmp) / f"report-{k}",
                    ReportOptions(scenario=Scenario(region="USA", training_kwh=50_000.0)),
                    location=db,
                )
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
                figures = len(files.figures)
            count = store.count()
    return {
        "runs": count,
        "insert_s": round(insert_s, 1),
        "report_s": [round(t, 2) for t in times],
        "report_median_s": round(statistics.median(times), 2),
        "report_cpu_s": [round(t, 2) for t in cpu],
        "report_cpu_median_s": round(statistics.median(cpu), 2),
        "figures": figures,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--runs", type=int, default=1_000_000, help="runs in the summary store (default 1,000,000)"
    )
    ap.add_argument(
        "--report-runs", type=int, default=10_000, help="runs in the report store (default 10,000)"
    )
    ap.add_argument("--db", default=None, help="the summary store's SQLite file, kept between calls")
    ap.add_argument("--out", default=None, help="also write the results as JSON here")
    args = ap.parse_args(argv)

    tmp = None
    db = args.db
    if db is None:
        tmp = tempfile.TemporaryDirectory(prefix="wattsup-analysis-bench-")
        db = str(Path(tmp.name) / "runs.db")
    try:
        with Store.open(db) as store:
            have = store.count()
            insert_s = None
            if have < args.runs:
                insert_s = round(fill_runs(store, args.runs - have, seed=have), 1)
        size_mb = round(sum(p.stat().st_size for p in Path(db).parent.glob(Path(db).name + "*")) / 1e6)
        load_before = os.getloadavg()
        result: dict[str, Any] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}, "
            f"SQLite {__import__('sqlite3').sqlite_version}",
            "summary_store": {"db": db, "size_mb": size_mb, "insert_s": insert_s, **time_summary(db)},
            "report": time_report(args.report_runs),
        }
        result["load_average_1min"] = {
            "before": round(load_before[0], 2),
            "after": round(os.getloadavg()[0], 2),
        }
        text = json.dumps(result, indent=2)
        print(text)
        if args.out:
            Path(args.out).write_text(text + "\n", encoding="utf-8")
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


def _cpus() -> int:
    return os.cpu_count() or 0


if __name__ == "__main__":
    sys.exit(main())
