"""Score stored runs of ``gpu_inprocess_bench.py`` again, against both of its oracles.

    python benchmarks/rescore_inprocess.py RUN.json[.gz]... [--out RESCORED.json]

A run stores every window (``raw_windows``: its edges, wattsup's joules and bound, the first oracle's
figure) and every counter step the oracle's reader saw (``oracle_ticks``: its bracket's midpoint and the
joules). From those this prints, per load and window length, wattsup's median |error| and
bound coverage, and the other tools' median |error|, against the ±1 s oracle (as stored) and against the
grid-timed counter (``counter_grid.py``), fitted to those midpoints (the fit needs no more). Needs no
GPU; the scoring is the benchmark's own (``gpu_inprocess_bench.tabulate``), so torch and wattsup must import.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from counter_grid import CounterGrid
from gpu_inprocess_bench import tabulate

LOADS = ("heavy", "light")


def load(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        return json.load(f)  # type: ignore[no-any-return]


def rescore(run: dict[str, Any]) -> dict[str, Any]:
    """{load: {"grid": the grid's summary, "windows": per-length figures}} of one stored run."""
    ticks = run.get("oracle_ticks")
    if not ticks:
        raise SystemExit(
            "this run stored no oracle_ticks: only accuracy runs from the fifth session on can be rescored"
        )
    grid = CounterGrid([(t, t, j) for t, j in ticks])
    out = {}
    for name in (n for n in LOADS if n in run):
        raw = run[name]["raw_windows"]
        # over the span of wattsup's windows (the other tools' bookkeeping idles the GPU between theirs)
        ws = [w for w in raw if "wattsup_j" in w]
        spread = (
            grid.step_spread(min(w["a"] for w in ws), max(w["a"] + w["duration_s"] for w in ws))
            if ws
            else None
        )
        out[name] = {"grid": grid.summary(), "step_spread": spread, "windows": tabulate(raw, grid)}
    return out


def table(path: str, scored: dict[str, Any]) -> str:
    lines = [path]
    for name, r in scored.items():
        g = r["grid"]
        lines.append(
            f"  {name}: on a grid: {g['grid']}, period {g['period_s'] * 1e3:.4f} ms, "
            f"fit residual {g['residual_sd_ms']} ms, steps {g['steps']}"
        )
        if r.get("step_spread"):
            sp = r["step_spread"]
            lines.append(
                f"  the power from one 100 ms step to the next: sd {sp['step_power_sd_pct']:.2f}%, each step "
                f"off the 2 s around it by {sp['step_vs_2s_median_pct']:.2f}% (median), "
                f"{sp['step_vs_2s_p90_pct']:.2f}% (p90)"
            )
        lines.append(
            "    length  wattsup ±1s  cover   | wattsup grid  cover  (+oracle) | zeus grid  codecarbon grid"
        )
        for c in r["windows"]:
            og = c["oracle_grid"]
            n = c["n"]

            def cov(x: float | None, n: int = n) -> str:
                return "-" if x is None else f"{round(x * n)}/{n}"

            def med(e: dict[str, Any]) -> str:
                return "-" if e["median_abs_pct"] is None else f"{e['median_abs_pct']:.2f}%"

            lines.append(
                f"    {c['d']:>5.1f} s  {med(c['wattsup']):>10}  {cov(c['wattsup_bound_coverage']):>6}  | "
                f"{med(og['wattsup']):>12}  {cov(og['wattsup_bound_coverage']):>6} "
                f"({cov(og['wattsup_bound_coverage_with_oracle_bound'])}) | "
                f"{med(og['zeus']):>9}  {med(og['codecarbon']):>15}"
            )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, help="write every run's rescored figures here (JSON)")
    args = ap.parse_args()
    out = {}
    for path in args.runs:
        scored = rescore(load(path))
        out[str(path)] = scored
        print(table(str(path), scored))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
