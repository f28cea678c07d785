#!/usr/bin/env bash
# Issue 4 on a GPU machine through the device tool: harness overhead against a minimal loop, the quick
# suite on CUDA (every task's code path), then as much of the paper suite (random weights, n=1000,
# 1 rep) as the time left allows. Everything lands in $OUT.
set -u
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl >/dev/null 2>&1 || { echo "wheel install failed"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD/src
OUT=${OUT:-.}
deadline=$(( $(date +%s) + ${BUDGET_S:-470} ))
left() { echo $(( deadline - $(date +%s) )); }
nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$OUT/gpu.txt"
echo "== harness overhead (cuda)"; timeout 150 python3 benchmarks/harness_overhead.py cuda 1000 5 > "$OUT/harness_overhead_cuda.log" 2>&1; tail -12 "$OUT/harness_overhead_cuda.log"
wattsup() { python3 -c 'import sys; from wattsup.cli import main; sys.exit(main())' "$@"; }
echo "== quick suite on cuda ($(left) s left)"; timeout $(( $(left) - 200 )) bash -c "$(declare -f wattsup); wattsup suite quick --device cuda --db $OUT/quick.db" > "$OUT/quick.log" 2>&1; tail -25 "$OUT/quick.log"
echo "== paper suite, random weights, n=1000, 1 rep ($(left) s left)"
timeout $(( $(left) - 15 )) bash -c "$(declare -f wattsup); wattsup suite paper --weights random --reps 1 --db $OUT/paper.db --tasks text-classification token-classification question-answering fill-mask image-classification object-detection text-generation" > "$OUT/paper.log" 2>&1; tail -25 "$OUT/paper.log"
wattsup runs --db "$OUT/paper.db" --json > "$OUT/paper_runs.json" 2>/dev/null; wattsup export --db "$OUT/paper.db" --out "$OUT/paper_runs.csv" >/dev/null 2>&1
echo done
