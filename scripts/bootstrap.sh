#!/usr/bin/env bash
# Creates (or updates) the project's virtual environment in .venv and installs wattsup into it.
# Usage: scripts/bootstrap.sh main|test
# Every distribution is installed at the version constraints/ci.txt pins (scripts/lock.sh refreshes it),
# so a setup today installs what CI tested. torch is pinned to 2.13.0: that CPU build installs from local
# wheels on our machines, and a newer or unpinned torch would pull several GB of CUDA wheels. On a GPU
# machine install the CUDA build you want first; pip then keeps it (any torch>=2.2 satisfies wattsup), and
# where it is not 2.13.0 the rest installs without the constraints, which were resolved with 2.13.0.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/profiles.sh
profile="${1:-main}"
if ! extras="$(extras_of "$profile")"; then
  echo "usage: scripts/bootstrap.sh main|test" >&2
  exit 2
fi
py="${PYTHON:-python3}"
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "wattsup needs Python >= 3.11; set PYTHON=/path/to/python3.11" >&2
  exit 2
fi
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
  "${pip[@]}" --upgrade pip -c "$CONSTRAINTS"
fi
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  "${pip[@]}" "$TORCH_PIN"
fi
torch="$(.venv/bin/python -c 'from importlib.metadata import version; print(version("torch").split("+")[0])')"
lock=(-c "$CONSTRAINTS")
if [ "torch==$torch" != "$TORCH_PIN" ]; then
  echo "bootstrap.sh: torch $torch is installed, not the locked ${TORCH_PIN#torch==}: installing without $CONSTRAINTS" >&2
  lock=()
fi
"${pip[@]}" ${lock[@]+"${lock[@]}"} -e ".[${extras}]"
