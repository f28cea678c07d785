"""Serving energy on a GPU (issue 14): gpt2 and a ~1B-parameter catalog architecture (Llama 3.2 1B Instruct,
random weights: no download) at batch/concurrency 1 to 128 through engines (a) static batching and (b)
transformers' continuous batching.

    python benchmarks/serving_bench.py [--device cuda] [--models gpt2,meta-llama/Llama-3.2-1B-Instruct]
        [--engines static,continuous] [--levels 1,2,4,8,16,32,64,128] [--profile chat]
        [--max-input-tokens 256] [--max-output-tokens 128]
    python benchmarks/serving_bench.py --smoke      # CPU, tiny/gpt2, levels 1 and 2, seconds

Each level gets max(24, 4 × concurrency) requests drawn from the profile (seeded, the same prompts for
every model and engine), so the steady-state window keeps at least two batches past ramp-up and drain. Per
level it records J per output token (± the meter's bound, with the method), J per request, the
prefill/decode split (metered phases under static batching; derived from a prefill-only pass under
continuous batching), TTFT/TPOT/ITL, tokens/s,
mean GPU power and utilisation, and the load generator's share. Writes $OUT/serving_bench.json (or
./serving_bench.json) after every model × engine, so a run cut short keeps what it measured, and prints a
summary table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

DEFAULT_MODELS = "gpt2,meta-llama/Llama-3.2-1B-Instruct"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="CPU, tiny/gpt2, levels 1 and 2, tiny lengths")
    p.add_argument("--device", default=None, help="default: cuda when torch sees one, else cpu")
    p.add_argument("--dtype", default="auto", help="auto (float16 on CUDA), float32, float16, bfloat16")
    p.add_argument("--models", default=DEFAULT_MODELS)
    p.add_argument("--engines", default="static,continuous")
    p.add_argument("--levels", default="1,2,4,8,16,32,64,128")
    p.add_argument("--profile", default="chat")
    p.add_argument("--max-input-tokens", type=int, default=256)
    p.add_argument("--max-output-tokens", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.smoke:
        args.device = args.device or "cpu"
        args.models, args.levels = "tiny/gpt2", "1,2"
        args.max_input_tokens, args.max_output_tokens = 8, 8
    return args


def requests_for(concurrency: int) -> int:
    return max(24, 4 * concurrency)


def row(model: str, engine: str, lv: Any) -> dict[str, Any]:
    return {
        "model": model,
        "engine": engine,
        "level": lv.level.label,
        "completed": lv.completed,
        "failed": lv.failed,
        "window_s": lv.window_s,
        "j_per_output_token": lv.j_per_output_token.value,
        "j_per_output_token_bound": lv.j_per_output_token.error_bound,
        "method": lv.j_per_output_token.method,
        "j_per_request": lv.j_per_request.value,
        "prefill_j": lv.prefill_energy_j.value,
        "decode_j": lv.decode_energy_j.value,
        "tokens_per_s": lv.tokens_per_s,
        "ttft_p50_s": lv.ttft.p50_s,
        "ttft_p99_s": lv.ttft.p99_s,
        "tpot_p50_s": lv.tpot.p50_s,
        "tpot_p99_s": lv.tpot.p99_s,
        "itl_p50_s": lv.itl.p50_s,
        "itl_p99_s": lv.itl.p99_s,
        "gpu_power_w": lv.mean_gpu_power_w.value,
        "gpu_utilisation_pct": lv.gpu_utilisation_pct.value,
        "generator_share": lv.generator_share,
        "wh_per_request_active": _lc(lv, "active"),
        "wh_per_request_comprehensive": _lc(lv, "comprehensive"),
        "boundary_ratio": None if lv.life_cycle is None else lv.life_cycle["ratio"],
        "life_cycle_note": lv.life_cycle_note,
        "warnings": lv.warnings,
    }


def _lc(lv: Any, boundary: str) -> float | None:
    """Wh per request under one boundary of the level's life cycle; None where it has none (no GPU)."""
    return None if lv.life_cycle is None else lv.life_cycle[boundary]["per_request"]["energy_wh"]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from wattsup.serving import ServeConfig, parse_levels, run_serving
    from wattsup.serving.engines.base import load_causal_lm
    from wattsup.serving.engines.continuous import ContinuousBatchingEngine
    from wattsup.serving.engines.static import StaticBatchingEngine

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    levels = parse_levels(args.levels, None)
    out_path = Path(os.environ.get("OUT", ".")) / "serving_bench.json"
    report: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
        "args": vars(args) | {"device": device},
        "runs": [],
        "rows": [],
        "errors": [],
    }
    for model in args.models.split(","):
        lm = None
        paged = False  # continuous batching switches the model to paged attention: static reloads it
        for engine_name in args.engines.split(","):
            t0 = time.monotonic()
            try:
                if lm is None or (engine_name == "static" and paged):
                    lm = load_causal_lm(model, "random", device, args.dtype)
                    paged = False
                if engine_name == "static":
                    engine: Any = StaticBatchingEngine(lm, max_batch=max(lv.concurrency for lv in levels))
                elif engine_name == "continuous":
                    engine = ContinuousBatchingEngine(lm)
                    paged = True
                else:
                    raise SystemExit(
                        f"--engines: unknown engine {engine_name!r}; use static and/or continuous"
                    )
            except Exception as e:  # a model that does not load here: recorded, the others still run
                report["errors"].append(
                    {"model": model, "engine": engine_name, "error": f"{type(e).__name__}: {e}"}
                )
                traceback.print_exc()
                continue
            for level in levels:
                cfg = ServeConfig(
                    engine=engine_name,
                    levels=[level],
                    model=model,
                    device=device,
                    dtype=args.dtype,
                    profile=args.profile,
                    requests=requests_for(level.concurrency),
                    seed=args.seed,
                    max_input_tokens=args.max_input_tokens,
                    max_output_tokens=args.max_output_tokens,
                    max_batch=max(lv.concurrency for lv in levels),
                )
                try:
                    result = run_serving(cfg, engine=engine)
                except Exception as e:  # out of memory at a level: recorded, the next engine still runs
                    report["errors"].append(
                        {
                            "model": model,
                            "engine": engine_name,
                            "level": level.label,
                            "error": f"{type(e).__name__}: {e}",
                        }
                    )
                    traceback.print_exc()
                    break
                report["runs"].append(json.loads(result.model_dump_json()))
                for lv in result.levels:
                    report["rows"].append(row(model, engine_name, lv))
                    print(
                        f"{model} {engine_name} {lv.level.label}: J/token {lv.j_per_output_token.value} "
                        f"({lv.j_per_output_token.method}), tok/s {lv.tokens_per_s}",
                        flush=True,
                    )
                out_path.write_text(json.dumps(report, indent=1, default=str))
            print(f"{model} {engine_name}: {time.monotonic() - t0:.0f} s", flush=True)
    out_path.write_text(json.dumps(report, indent=1, default=str))
    _summary(report["rows"])
    print(f"wrote {out_path}")
    return 1 if report["errors"] and not report["rows"] else 0


COLUMNS: list[tuple[str, str, str, float, int]] = [
    # header, row key, format, scale, width
    ("J/token", "j_per_output_token", ".4g", 1, 10),
    ("±", "j_per_output_token_bound", ".2g", 1, 9),
    ("prefill J", "prefill_j", ".4g", 1, 10),
    ("decode J", "decode_j", ".4g", 1, 10),
    ("tok/s", "tokens_per_s", ".4g", 1, 9),
    ("TTFT ms", "ttft_p50_s", ".1f", 1e3, 8),
    ("TPOT ms", "tpot_p50_s", ".2f", 1e3, 8),
    ("GPU W", "gpu_power_w", ".0f", 1, 7),
    ("GPU %", "gpu_utilisation_pct", ".0f", 1, 6),
    ("gen %", "generator_share", ".2f", 100, 6),
]


def _summary(rows: list[dict[str, Any]]) -> None:
    head = f"{'model':<36} {'engine':<10} {'level':<7} " + " ".join(f"{h:>{w}}" for h, _, _, _, w in COLUMNS)
    print(head)
    for r in rows:
        cells = []
        for _, key, fmt, scale, width in COLUMNS:
            v = r[key]
            cells.append(f"{'-' if v is None else format(v * scale, fmt):>{width}}")
        print(f"{r['model']:<36} {r['engine']:<10} {r['level']:<7} " + " ".join(cells))


if __name__ == "__main__":
    sys.exit(main())
