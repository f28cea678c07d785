#!/usr/bin/env bash
# The GPU measurements of issues 13, 14 and 17 on a machine lent by the device tool, one stage per call
# (a call is at most 10 minutes). Carry .whl (wheels the machine lacks: pydantic, codecarbon, zeus, diffusers…).
#
#   benchmarks/device_session.sh STAGE...   stages run in the order given:
#     tests      the real-GPU tests (tests/meter/test_gpu_real.py)
#     accuracy   in-process accuracy against the independent oracle (gpu_inprocess_bench.py, accuracy part;
#                BENCH_LOADS=heavy or light for one load: both take ~8 minutes; WATTSUP_SAMPLE_DRAIN_S=0.25
#                against the default 0.5 is the A/B of the sample-buffer drain rate)
#     quick      the quick suite on CUDA, timed (issue 17)
#     quickeager the same with CUDA_MODULE_LOADING=EAGER
#     profile    the quick suite again, each run under cProfile (WATTSUP_PROFILE_DIR=$OUT/profiles): where a
#                run's time goes; not a timing
#     loadprobe  gpu_load_probe.py: a tiny model's load twice in one warmed process, CUDA kernels loaded lazily
#                and eagerly (where a GPU run's load time goes)
#     phasecost  phase_cost_bench.py: what a phase per inference costs, taken apart (clock reads, Python), in
#                short paired blocks with an A/A floor (BENCH_SECONDS of them, default 60); BENCH_REF_METER=
#                a previous meter.py (an ignored path, carried) timed in the same rounds
#     nvmlcost   nvml_call_cost.py: the CPU and wall time of each NVML read the sampler may use, idle and loaded
#     overhead   in-process overhead and the sampler's CPU (gpu_inprocess_bench.py, overhead part)
#     serving    serving_bench.py: gpt2 and Llama-3.2-1B (random weights), engines static and continuous,
#                levels $SERVING_LEVELS (issue 14)
# Everything it writes goes to $OUT.
set -u
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  >/dev/null 2>&1 || { echo "wheel install failed"; exit 3; }
export PYTHONPATH=/tmp/site:$PWD/src
OUT=${OUT:-.}
nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import sys,torch,transformers;print(sys.version.split()[0],torch.__version__,transformers.__version__)" | tee -a "$OUT/gpu.txt"
for stage in "$@"; do case $stage in
  tests)
    timeout 90 python3 -m pytest -q -p no:cacheprovider tests/meter/test_gpu_real.py > "$OUT/gpu_tests.txt" 2>&1
    tail -2 "$OUT/gpu_tests.txt"
    ;;
  accuracy)
    BENCH_PARTS=accuracy timeout ${ACCURACY_TIMEOUT:-540} python3 benchmarks/gpu_inprocess_bench.py \
      > "$OUT/accuracy_${BENCH_LOADS:-heavy,light}.log" 2>&1; echo "accuracy rc=$?"
    grep -v '^{' "$OUT/accuracy_${BENCH_LOADS:-heavy,light}.log" | tail -c 5000
    ;;
  quick|quickeager)
    # quickeager: the same with CUDA_MODULE_LOADING=EAGER (each worker loads every CUDA kernel when its
    # context is created: in a spare, before its run is handed over)
    mode=LAZY; [ "$stage" = quickeager ] && mode=EAGER
    start=$(date +%s%N)
    CUDA_MODULE_LOADING=$mode timeout 200 python3 -m wattsup suite quick --device cuda --db /tmp/$stage.db \
      --timeout 90 > "$OUT/$stage.log" 2>&1
    rc=$?; end=$(date +%s%N)
    echo "$stage suite rc=$rc wall_ms=$(( (end - start) / 1000000 ))" | tee -a "$OUT/$stage.log"
    tail -c 1200 "$OUT/$stage.log"
    python3 -m wattsup export --db /tmp/$stage.db --full --out "$OUT/${stage}_runs.jsonl" > /dev/null 2>&1
    python3 - "$OUT/${stage}_runs.jsonl" <<'PY'
import json, sys
from datetime import datetime
for line in open(sys.argv[1]):
    r = json.loads(line)["record"]
    d = lambda k: datetime.fromisoformat(r[k])
    reps = [round(x["measurement"]["duration_s"], 2) for x in r.get("repetitions") or []]
    load = (r.get("load") or {}).get("duration_s", 0)
    print(r["config"]["model"], r["status"], "load", round(load, 2), "reps", reps,
          "run", round((d("finished_at") - d("started_at")).total_seconds(), 1), r["provenance"].get("worker_start"))
PY
    if [ "$rc" != 0 ]; then find /tmp -name worker.log -newer "$OUT/gpu.txt" -exec tail -n 20 {} \; 2>/dev/null | tail -40; fi
    ;;
  profile)
    mkdir -p "$OUT/profiles"
    start=$(date +%s%N)
    WATTSUP_PROFILE_DIR=$OUT/profiles timeout 300 python3 -m wattsup suite quick --device cuda --db /tmp/p.db \
      --timeout 120 > "$OUT/profile.log" 2>&1
    rc=$?; end=$(date +%s%N)
    echo "profiled quick suite rc=$rc wall_ms=$(( (end - start) / 1000000 ))" | tee -a "$OUT/profile.log"
    grep -h "load \|rep \|ok\|failed" "$OUT/profile.log" | tail -n 5
    for f in "$OUT"/profiles/text-generation__tiny-gpt2__*.txt; do head -n 50 "$f" | cut -c 1-150; done
    ;;
  loadprobe)
    timeout 240 python3 benchmarks/gpu_load_probe.py > "$OUT/loadprobe.log" 2>&1; echo "loadprobe rc=$?"
    tail -c 3000 "$OUT/loadprobe.log"
    ;;
  nvmlcost)
    timeout 240 python3 benchmarks/nvml_call_cost.py > "$OUT/nvmlcost.log" 2>&1; echo "nvmlcost rc=$?"
    tail -c 3000 "$OUT/nvmlcost.log"
    ;;
  phasecost)
    mkdir -p "$OUT/sampler_cpu_phasecost"
    WATTSUP_SAMPLER_CPU_DIR=$OUT/sampler_cpu_phasecost timeout $(( ${BENCH_SECONDS:-60} * 2 + 90 )) \
      python3 benchmarks/phase_cost_bench.py > "$OUT/phasecost.log" 2>&1; echo "phasecost rc=$?"
    python3 - "$OUT/phase_cost_bench.json" <<'PY' || tail -c 1500 "$OUT/phasecost.log"
import json, sys
d = json.load(open(sys.argv[1]))
print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in d.items() if not isinstance(v, dict)})
for v in ("none2", "phase", "held", "each", "stamps", "clocks", "empty", "zeus", "ref_phase", "ref_held", "ref_each", "py_phase",
          "py_held"):
    if v in d:
        r = d[v]
        print(v, {lens: (round(x["cost_us_median"], 2), [round(c, 2) for c in x["cost_us_ci95"]],
                         round(x["slowdown_pct_median"], 3)) for lens, x in r.items()})
PY
    cat "$OUT"/sampler_cpu_phasecost/*.json 2>/dev/null | tr -d ' \n'; echo
    ;;
  overhead)
    mkdir -p "$OUT/sampler_cpu_overhead"  # where the sampler's CPU went (its report when it stops)
    WATTSUP_SAMPLER_CPU_DIR=$OUT/sampler_cpu_overhead BENCH_ROUNDS=${BENCH_ROUNDS:-20} BENCH_PARTS=overhead \
      timeout 280 python3 benchmarks/gpu_inprocess_bench.py \
      > "$OUT/overhead.log" 2>&1; echo "overhead rc=$?"
    tail -c 1200 "$OUT/overhead.log"; echo
    cat "$OUT"/sampler_cpu_overhead/*.json 2>/dev/null | tr -d ' \n'; echo
    ;;
  serving)
    timeout ${SERVING_TIMEOUT:-440} python3 benchmarks/serving_bench.py --device cuda \
      --levels "${SERVING_LEVELS:-1,4,16,64,128}" > "$OUT/serving.log" 2>&1
    echo "serving rc=$?"; tail -c 6000 "$OUT/serving.log"
    ;;
  *) echo "unknown stage $stage"; exit 2 ;;
esac; done
