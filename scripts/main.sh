#!/usr/bin/env bash
# The main job: set up wattsup and run the quick benchmark suite offline on whatever hardware is here.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh main
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
exec .venv/bin/wattsup suite quick "$@"
