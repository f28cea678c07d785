#!/usr/bin/env bash
# GPU benchmarks on a machine lent by the device tool, one stage per call (each call is at most 10 minutes):
#
#   benchmarks/device_harness.sh overhead            GPU tests, meter overhead (issue 2), harness overhead (issue 4,
#                                                    block-interleaved; harness_overhead.py compares whole windows)
#   benchmarks/device_harness.sh paper TASK...       the paper suite for these tasks (random weights, n=1000, 1 rep)
#   benchmarks/device_harness.sh tests               the real-GPU tests (tests/meter/test_gpu_real.py)
#   benchmarks/device_harness.sh harness [R B [detail]]  harness overhead only (issue 4, block-interleaved;
#                                                    detail: with the no-sync and no-phase controls)
#   benchmarks/device_harness.sh bench TASK DATASET MODEL...
#                                                    one paper-suite configuration per model (random weights,
#                                                    n=1000, 1 rep), e.g. the zero-shot models on one task
#   benchmarks/device_harness.sh image N             text-to-image, N images (scaled to kWh per 1,000)
#
# Paper-suite results go to a store under /tmp that outlives a call while the machine stays warm (the
# suite resumes: completed configurations are skipped), and every call exports the whole store to $OUT
# as JSON lines (full records) and a CSV of phases. Carry .whl (wheels of what the machine lacks).
set -u
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  >/dev/null 2>&1 || { echo "wheel install failed"; exit 1; }
export PYTHONPATH=/tmp/site:$PWD/src
OUT=${OUT:-.}
DB=/tmp/wattsup-paper.db
deadline=$(( $(date +%s) + ${BUDGET_S:-560} ))
left() { echo $(( deadline - $(date +%s) )); }
wattsup() { python3 -c 'import sys; from wattsup.cli import main; sys.exit(main())' "$@"; }
nvidia-smi --query-gpu=name,driver_version,power.limit,clocks.max.sm --format=csv,noheader | tee -a "$OUT/gpu.txt"
gpu_tests() {
  echo "== GPU tests"; timeout 120 python3 -m pytest -q -p no:cacheprovider tests/meter/test_gpu_real.py > "$OUT/gpu_tests.txt" 2>&1
  tail -5 "$OUT/gpu_tests.txt"
}
harness_overhead() {  # ROUNDS BLOCK [detail]
  echo "== harness overhead, block-interleaved ($(left) s left)"
  timeout $(( $(left) - 5 )) python3 benchmarks/harness_overhead_blocks.py cuda "$1" "$2" ${3:-} > "$OUT/harness_overhead_blocks.log" 2>&1
  tail -24 "$OUT/harness_overhead_blocks.log"
}
stage=${1:-overhead}; shift || true
case $stage in
  overhead)
    gpu_tests
    echo "== meter overhead ($(left) s left)"
    BENCH_ROUNDS=${BENCH_ROUNDS:-30} timeout 240 python3 benchmarks/gpu_overhead_bench.py > "$OUT/gpu_overhead.log" 2>&1
    tail -9 "$OUT/gpu_overhead.log"
    harness_overhead 150 50
    ;;
  tests) gpu_tests ;;
  harness) harness_overhead "${1:-150}" "${2:-50}" "${3:-}" ;;
  bench)
    [ $# -ge 3 ] || { echo "usage: $0 bench TASK DATASET MODEL..."; exit 2; }
    task=$1 dataset=$2; shift 2
    for model in "$@"; do
      echo "== $task $model on $dataset ($(left) s left)"
      timeout $(( $(left) - 25 )) bash -c "$(declare -f wattsup); wattsup bench $task --model $model --dataset $dataset --weights random -n 1000 --reps 1 --device cuda --timeout $(( $(left) - 30 )) --db $DB --json" >> "$OUT/bench.log" 2>&1
      tail -c 1500 "$OUT/bench.log"
    done
    ;;
  paper)
    args=(); for t in "$@"; do args+=(--tasks "$t"); done
    echo "== paper suite: $* ($(left) s left)"
    timeout $(( $(left) - 25 )) bash -c "$(declare -f wattsup); wattsup suite paper --weights random --reps 1 --timeout 420 --db $DB ${args[*]}" > "$OUT/paper.log" 2>&1
    tail -30 "$OUT/paper.log"
    ;;
  image)
    echo "== text-to-image, ${1:-20} images ($(left) s left)"
    timeout $(( $(left) - 25 )) bash -c "$(declare -f wattsup); wattsup bench text-to-image --model runwayml/stable-diffusion-v1-5 --dataset diffusiondb --weights random -n ${1:-20} --reps 1 --device cuda --db $DB --json" > "$OUT/image.log" 2>&1
    tail -c 3000 "$OUT/image.log"
    ;;
  *) echo "unknown stage $stage"; exit 2 ;;
esac
wattsup export --db "$DB" --full --out "$OUT/paper_runs.jsonl" > /dev/null 2>&1
wattsup export --db "$DB" --table phases --out "$OUT/paper_phases.csv" > /dev/null 2>&1
wattsup runs --db "$DB" 2>/dev/null | tail -25
echo "done ($(left) s left)"
