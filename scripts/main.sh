#!/usr/bin/env bash
# The main job: set up wattsup and run the quick benchmark suite offline on whatever hardware is here.
# Every run is measured now, on this machine (--again), even where the store holds earlier runs of the
# same configurations; pass --resume to skip those and show their stored figures instead (the table
# then says which figures were measured before). Other arguments go to 'wattsup suite quick'.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
args=()
again=(--again)
for a in "$@"; do
  if [ "$a" = "--resume" ]; then again=(); else args+=("$a"); fi
done
exec .venv/bin/wattsup suite quick ${again[@]+"${again[@]}"} ${args[@]+"${args[@]}"}
