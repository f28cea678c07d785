#!/bin/bash
# The quick suite on the CPU, two source trees alternated (A/B), offline:
#   benchmarks/quick_suite_ab.sh BASE_SRC NEW_SRC [ROUNDS]     e.g. a `git worktree` of the old commit's src/
# Prints one line per suite: wall time, load average before it, and the suite's own "measured now in".
set -u
BASE=$1 NEW=$2 ROUNDS=${3:-2}
PY=${PYTHON:-$(dirname "$0")/../.venv/bin/python}
export HF_HUB_OFFLINE=1
for round in $(seq 1 "$ROUNDS"); do
  for tree in base new; do
    if [ $tree = base ]; then src=$BASE; else src=$NEW; fi
    db=$(mktemp -d)/q.db
    load=$(cut -d' ' -f1 /proc/loadavg)
    s=$(date +%s%N)
    log=$(dirname "$db")/suite.log
    PYTHONPATH=$src "$PY" -m wattsup suite quick --db "$db" > "$log" 2>&1
    rc=$?
    e=$(date +%s%N)
    echo "round=$round tree=$tree rc=$rc wall_ms=$(( (e - s) / 1000000 )) load_before=$load $(grep -o 'measured now in [0-9]* s' "$log")"
  done
done
