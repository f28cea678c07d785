"""Load test of the dashboard: concurrent clients on loopback against the leaderboard page and the
JSON API of ``wattsup dashboard`` (the real command: uvicorn, one process) over a store of many runs.

Usage (from the repository root, with the test extras installed):

    .venv/bin/python benchmarks/web_load.py [--runs 10000] [--clients 50] [--seconds 30]
        [--cache-seconds S] [--db PATH] [--out benchmarks/results/NAME.json]

The store is built with the store's own API from the dashboard tests' factories (the study's 22
models over many seeds, one repetition each) unless --db names an existing one. Every request is
timed from the client; an error is any status other than 200 or any exception (timeouts included).
The client runs on the same machine as the server, so both share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "web"))

TASKS = ("text-classification", "summarization", "image-classification", "text-generation")
MAIN = "import sys; from wattsup.cli import main; sys.exit(main())"


def requests_mix() -> list[tuple[str, str]]:
    """(label, path) pairs the clients cycle through: the leaderboard page and the API."""
    out: list[tuple[str, str]] = []
    for i, task in enumerate(TASKS):
        sort = ("rank", "params", "stars", "model")[i]
        out += [
            ("page /leaderboard", f"/leaderboard?task={task}&sort={sort}"),
            ("api /leaderboard", f"/api/leaderboard?task={task}&sort=kwh&order=desc"),
            ("api /models", f"/api/models?task={task}"),
            ("api /lifecycle", f"/api/lifecycle?task={task}&training_kwh=50000&region=FRA"),
        ]
    out += [
        ("api /summary", "/api/summary"),
        ("api /study", "/api/study"),
        ("api /facets", "/api/facets"),
        ("api /ratings", "/api/ratings"),
        ("api /label", "/api/label?model=gpt2&task=text-generation"),
    ]
    out += [("api /runs", f"/api/runs?limit=50&offset={50 * k}") for k in range(4)]
    return out


def build_store(path: Path, runs: int) -> float:
    from web_factories import bulk_records

    from wattsup.results import Store

    start = time.perf_counter()
    with Store.open(str(path)) as store:
        store.add_many(bulk_records(runs))
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(db: Path, port: int, cache_s: float | None, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", MAIN, "dashboard", "--db", str(db), "--port", str(port)]
    if cache_s is not None:
        cmd += ["--cache-seconds", str(cache_s)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/facets", timeout=5) as r:
                if r.status == 200:
                    return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"the dashboard did not start:\n{log.read_text()}") from None
            time.sleep(0.2)


class Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator can be: a heavier client (httpx
    costs ~6 ms of CPU a request here) would measure itself on a 2-core machine, not the server."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: */*\r\n\r\n"
        self.writer.write(request.encode("ascii"))
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
        if "content-length" not in headers:
            raise ValueError(f"no content-length in the answer to {path}")
        body = await self.reader.readexactly(int(headers["content-length"]))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def load(
    host: str, port: int, clients: int, seconds: float, failures: list[str]
) -> list[tuple[str, int, float]]:
    """Each client (one connection) sends its next request as soon as the last one answered, until
    time is up. What went wrong in failed requests goes to ``failures``."""
    mix = requests_mix()
    results: list[tuple[str, int, float]] = []
    deadline = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        conn = Connection(host, port)
        i = k
        while time.perf_counter() < deadline:
            label, path = mix[i % len(mix)]
            i += 1
            start = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(conn.get(path), timeout=60)
                if status != 200:
                    failures.append(f"{path}: {status} {body[:200]!r}")
            except Exception as err:  # a timeout or a dropped connection is an error too
                status = -1
                failures.append(f"{path}: {type(err).__name__}: {err}")
                await conn.close()
            results.append((label, status, time.perf_counter() - start))
        await conn.close()

    await asyncio.gather(*(worker(k) for k in range(clients)))
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summarise(results: list[tuple[str, int, float]], seconds: float) -> dict[str, Any]:
    def stats(rows: list[tuple[str, int, float]]) -> dict[str, Any]:
        ms = [r[2] * 1000 for r in rows]
        return {
            "requests": len(rows),
            "errors": sum(1 for r in rows if r[1] != 200),
            "per_s": round(len(rows) / seconds, 1),
            "p50_ms": round(statistics.median(ms), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1),
        }

    by_label: dict[str, list[tuple[str, int, float]]] = defaultdict(list)
    for r in results:
        by_label[r[0]].append(r)
    statuses: dict[str, int] = defaultdict(int)
    for r in results:
        statuses[str(r[1])] += 1
    return {
        "overall": stats(results),
        "statuses": dict(statuses),
        "by_request": {k: stats(v) for k, v in sorted(by_label.items())},
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": platform.platform(),
        "load_average_before": os.getloadavg(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--cache-seconds", type=float, default=None, help="the dashboard's --cache-seconds (default: its own)"
    )
    parser.add_argument("--db", type=Path, help="an existing store to serve (else one is built)")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wattsup-web-load-") as tmp:
        db = args.db
        build_s = None
        if db is None:
            db = Path(tmp) / "runs.db"
            build_s = build_store(db, args.runs)
            print(f"built a store of {args.runs} runs in {build_s:.1f} s")
        port = free_port()
        info = machine()
        server_log = Path(tmp) / "server.log"
        proc = start_server(db, port, args.cache_seconds, server_log)
        failures: list[str] = []
        server_cpu = cpu_seconds(proc.pid)
        client_cpu = time.process_time()
        try:
            results = asyncio.run(load("127.0.0.1", port, args.clients, args.seconds, failures))
            server_cpu = cpu_seconds(proc.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        server_said = server_log.read_text(errors="replace").strip().splitlines()
        report = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": " ".join(sys.argv),
            "machine": info,
            "load_average_after": os.getloadavg(),
            "runs": args.runs if args.db is None else None,
            "store_build_s": build_s,
            "clients": args.clients,
            "seconds": args.seconds,
            "cache_seconds": args.cache_seconds,
            **summarise(results, args.seconds),
            "server_cpu_s": round(server_cpu, 1),
            "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, len(results)), 2),
            "client_cpu_s": round(client_cpu, 1),
            "failures": failures[:20],
            "server_log_tail": server_said[-20:],
        }
    print(json.dumps(report, indent=2))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if report["overall"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
