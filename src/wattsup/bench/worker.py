"""The isolated worker: ``python -m wattsup.bench.worker CONFIG_JSON [--out PATH] [--entry MODULE:FUNCTION]``.

Runs one configuration (a RunConfig as a JSON file path or inline JSON) and writes its RunRecord as JSON to
``--out`` (or standard output). An exception becomes a failed RunRecord carrying the reason, and the exit
status is 1; a crash, an out-of-memory kill or a timeout leaves no record, and the runner writes the failure.
``--entry`` names the function that executes a RunConfig (default ``wattsup.bench.protocol:execute``);
where it takes a ``progress`` argument and ``--progress FILE`` is given, its progress is appended to FILE.

With ``WATTSUP_PROFILE_DIR`` set (in the environment of ``wattsup bench``/``suite``, which passes it on), each
run is profiled with cProfile: ``TASK__MODEL__PID.prof`` (for ``python -m pstats`` or snakeviz) and a
``.txt`` of the 40 most expensive calls by cumulative time go to that folder. For finding where a run's time
goes (its load, say); the profiler slows Python-bound code, so a profiled run's figures are not comparable.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import inspect
import io
import json
import os
import pstats
import re
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from wattsup.records import RunConfig, RunRecord

DEFAULT_ENTRY = "wattsup.bench.protocol:execute"
PROFILE_ENV = "WATTSUP_PROFILE_DIR"


def load_entry(spec: str) -> Callable[[RunConfig], RunRecord]:
    module, _, name = spec.partition(":")
    if not module or not name:
        raise SystemExit(f"--entry must be MODULE:FUNCTION, got {spec!r}")
    fn: Callable[[RunConfig], RunRecord] = getattr(importlib.import_module(module), name)
    return fn


def parse_config(arg: str) -> RunConfig:
    text = arg if arg.lstrip().startswith("{") else Path(arg).read_text(encoding="utf-8")
    return RunConfig.model_validate(json.loads(text))


def failure_reason(err: BaseException) -> str:
    """One line for people: the error's type and message (the traceback goes to stderr)."""
    name = type(err).__name__
    msg = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if "out of memory" in str(err).lower() or name == "OutOfMemoryError":
        return f"out of memory: {name}: {msg}"
    return f"{name}: {msg}" if msg else name


def write(record: RunRecord, out: str | None) -> None:
    text = record.model_dump_json()
    if out:
        tmp = Path(out + ".part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
    else:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def progress_writer(path: str, min_interval_s: float = 0.2) -> Callable[[str, int, int], None]:
    """A progress callback that appends 'STAGE DONE TOTAL' lines to ``path`` for the runner to follow: on
    a new stage, at a stage's end, and otherwise at most every ``min_interval_s``."""
    f = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the life of the worker
    last_at, last_stage = [0.0], [""]

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == last_stage[0] and done < total and now - last_at[0] < min_interval_s:
            return
        last_at[0], last_stage[0] = now, stage
        f.write(f"{stage} {done} {total}\n")
        f.flush()

    return report


def call_entry(
    fn: Callable[..., RunRecord], config: RunConfig, progress: Callable[[str, int, int], None] | None
) -> RunRecord:
    """``fn(config)``, with ``progress=`` where ``fn`` takes it."""
    if progress is not None and "progress" in inspect.signature(fn).parameters:
        return fn(config, progress=progress)
    return fn(config)


def profiled(
    fn: Callable[..., RunRecord],
    config: RunConfig,
    progress: Callable[[str, int, int], None] | None,
    folder: str,
) -> RunRecord:
    """``call_entry`` under cProfile; the profile goes to ``folder`` (see the module's docstring), even when
    the run fails."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{config.task}__{config.model}") + f"__{os.getpid()}"
    prof = cProfile.Profile()
    try:
        return prof.runcall(call_entry, fn, config, progress)
    finally:
        prof.dump_stats(out / f"{stem}.prof")
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(40)
        (out / f"{stem}.txt").write_text(text.getvalue(), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m wattsup.bench.worker", description=__doc__.splitlines()[0])
    ap.add_argument("config", help="RunConfig as a JSON file path or inline JSON")
    ap.add_argument("--out", help="write the RunRecord JSON here (default: standard output)")
    ap.add_argument("--entry", default=DEFAULT_ENTRY, help="MODULE:FUNCTION that runs a RunConfig")
    ap.add_argument("--progress", help="append progress lines 'STAGE DONE TOTAL' to this file")
    args = ap.parse_args(argv)
    config = parse_config(args.config)
    started = datetime.now(UTC)
    try:
        progress = progress_writer(args.progress) if args.progress else None
        entry = load_entry(args.entry)
        folder = os.environ.get(PROFILE_ENV)
        record = profiled(entry, config, progress, folder) if folder else call_entry(entry, config, progress)
    except Exception as err:  # any failure of the run becomes a failed record with its reason
        traceback.print_exc(file=sys.stderr)
        write(
            RunRecord(
                config=config,
                status="failed",
                error=failure_reason(err),
                started_at=started,
                finished_at=datetime.now(UTC),
            ),
            args.out,
        )
        return 1
    write(record, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
