#!/usr/bin/env bash
# The GPU measurements of issues 13, 14 and 17 on a machine lent by the device tool, one stage per call
# (a call is at most 10 minutes). Carry .whl (wheels the machine lacks: pydantic, codecarbon, zeus, diffusers…).
#
#   benchmarks/device_session.sh accuracy   real-GPU tests + in-process accuracy (gpu_inprocess_bench.py, accuracy)
#   benchmarks/device_session.sh quick      the quick suite on CUDA, timed (issue 17), then the in-process
#                                           overhead and sampler-CPU part (gpu_inprocess_bench.py, overhead)
#   benchmarks/device_session.sh serving    serving_bench.py: gpt2 and Llama-3.2-1B (random weights), engines
#                                           static and continuous, levels 1–128 (issue 14)
# Everything it writes goes to $OUT.
set -u
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  >/dev/null 2>&1 || { echo "wheel install failed"; exit 3; }
export PYTHONPATH=/tmp/site:$PWD/src
OUT=${OUT:-.}
nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import sys,torch,transformers;print(sys.version.split()[0],torch.__version__,transformers.__version__)" | tee -a "$OUT/gpu.txt"
case ${1:-accuracy} in
  accuracy)
    timeout 90 python3 -m pytest -q -p no:cacheprovider tests/meter/test_gpu_real.py > "$OUT/gpu_tests.txt" 2>&1
    tail -2 "$OUT/gpu_tests.txt"
    BENCH_REPS=${BENCH_REPS:-10} BENCH_PARTS=accuracy timeout 450 python3 benchmarks/gpu_inprocess_bench.py \
      > "$OUT/accuracy.log" 2>&1; echo "accuracy rc=$?"
    tail -c 7000 "$OUT/accuracy.log"
    ;;
  quick)
    start=$(date +%s%N)
    timeout 240 python3 -m wattsup suite quick --device cuda --db /tmp/q.db --timeout 90 > "$OUT/quick.log" 2>&1
    rc=$?; end=$(date +%s%N)
    echo "quick suite rc=$rc wall_ms=$(( (end - start) / 1000000 ))" | tee -a "$OUT/quick.log"
    tail -c 2500 "$OUT/quick.log"
    python3 -m wattsup export --db /tmp/q.db --full --out "$OUT/quick_runs.jsonl" > /dev/null 2>&1
    if [ "$rc" != 0 ]; then find /tmp -name worker.log -newer "$OUT/gpu.txt" -exec tail -n 20 {} \; 2>/dev/null | tail -60; fi
    BENCH_ROUNDS=${BENCH_ROUNDS:-20} BENCH_PARTS=overhead timeout 260 python3 benchmarks/gpu_inprocess_bench.py \
      > "$OUT/overhead.log" 2>&1; echo "overhead rc=$?"
    tail -c 2500 "$OUT/overhead.log"
    ;;
  serving)
    timeout 570 python3 benchmarks/serving_bench.py --device cuda ${SERVING_ARGS:-} > "$OUT/serving.log" 2>&1
    echo "serving rc=$?"; tail -c 6000 "$OUT/serving.log"
    ;;
  *) echo "unknown stage $1"; exit 2 ;;
esac
