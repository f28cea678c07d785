"""The HTTP load generator's own cost (issue 14: ≤ 1% of the energy it reports), on this machine's CPU.

A real OpenAI-compatible server process (``transformers serve`` where its extras are installed, else
``tests/fakes/openai_server.py``: FastAPI + uvicorn over the same model, token-by-token streaming) serves
``tiny/llama-chat`` with random weights on the CPU; ``wattsup serve --engine http`` drives it at
closed-loop concurrency 1, 4 and 8 and reports, per level, the generator's CPU time in the steady window
(its event-loop thread), that time priced at the CPU's power per core (modelled), and its share of the
window's energy. The CPU's figure is machine-wide for this engine (the server is another process), so the
share is the generator's part of everything the host drew.

    PYTHONPATH=src:. python benchmarks/http_generator_cost.py [--requests 48] [--levels 1,4,8] [--model gpt2]

Prints JSON (one object per level) and writes it to $OUT/http_generator_cost.json when OUT is set.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.openai_server import save_model, start_server

HERE = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--requests", type=int, default=48)
    p.add_argument("--levels", default="1,4,8")
    p.add_argument("--port", type=int, default=18731)
    p.add_argument("--model", default="tiny/llama-chat", help="catalog model served (random weights)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        model_dir = Path(d) / "model"
        save_model(model_dir, args.model)
        server = start_server(model_dir, args.port, Path(d) / "server.log")
        proc, kind = server.proc, server.kind
        try:
            cmd = [
                sys.executable,
                "-m",
                "wattsup",
                "serve",
                "--engine",
                "http",
                "--base-url",
                f"http://127.0.0.1:{args.port}",
                "--model",
                str(model_dir),
                "--api",
                "completions",
                "-c",
                args.levels,
                "-n",
                str(args.requests),
                "--max-input-tokens",
                "32",
                "--max-output-tokens",
                "32",
                "--no-store",
                "--json",
            ]
            env = {**os.environ, "PYTHONPATH": str(HERE / "src")}
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=1800)
        finally:
            proc.terminate()
            proc.wait(30)
    if out.returncode != 0:
        raise SystemExit(f"wattsup serve failed ({out.returncode}): {out.stderr[-3000:]}")
    result = json.loads(out.stdout)
    rows = []
    for lv in result["levels"]:
        win, share = lv["window_s"], lv["generator_share"]
        rows.append(
            {
                "server": kind,
                "model": args.model,
                "level": lv["level"],
                "requests": lv["requests"],
                "tokens_per_s": lv["tokens_per_s"],
                "window_s": win,
                "generator_cpu_s": lv["generator_cpu_s"],
                "generator_cpu_share_of_a_core": lv["generator_cpu_s"] / win if win else None,
                "generator_energy_j": lv["generator_energy_j"]["value"],
                "window_energy_j": lv["energy_j"]["value"],
                "generator_share_pct": None if share is None else 100 * share,
            }
        )
    text = json.dumps(rows, indent=1)
    print(text)
    if os.environ.get("OUT"):
        Path(os.environ["OUT"], "http_generator_cost.json").write_text(text)


if __name__ == "__main__":
    main()
