#!/usr/bin/env bash
# Creates (or updates) the project's virtual environment in .venv and installs wattsup into it.
# Usage: scripts/bootstrap.sh main|test
# torch is pinned to 2.13.0: that CPU build installs from local wheels on our machines, and a newer or
# unpinned torch would pull several GB of CUDA wheels. On a GPU machine install the CUDA build you want
# first; pip then keeps it (any torch>=2.2 satisfies wattsup).
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-main}"
py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "wattsup needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  "${pip[@]}" torch==2.13.0
fi
case "$profile" in
  main) extras="gpu,bench,diffusion,monitor" ;;
  test) extras="gpu,bench,diffusion,monitor,postgres,analysis,web,ray,dev" ;;
  *) echo "usage: scripts/bootstrap.sh main|test" >&2; exit 2 ;;
esac
"${pip[@]}" -e ".[${extras}]"
