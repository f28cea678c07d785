#!/usr/bin/env bash
# Refreshes constraints/ci.txt, the versions that scripts/bootstrap.sh installs: in a fresh virtual
# environment (a temporary folder, removed again), installs wattsup with the test profile's extras, every
# distribution at its newest release (torch excepted: the pinned one, see scripts/bootstrap.sh), then
# writes their versions. Review the diff, run scripts/test.sh, and commit the file.
# Usage: scripts/lock.sh   (PYTHON=/path/to/python3.11 to resolve with another Python; CI's is best)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/profiles.sh
py="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "lock.sh: resolving in $tmp/venv (downloads every extra's newest release; minutes)" >&2
"$py" -m venv "$tmp/venv"
pip=("$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" --upgrade pip
"${pip[@]}" "$TORCH_PIN"
extras="$(extras_of test)"
"${pip[@]}" -e ".[${extras}]"
"$tmp/venv/bin/python" scripts/constraints.py "$extras" > "$tmp/ci.txt"
mkdir -p "$(dirname "$CONSTRAINTS")"
mv "$tmp/ci.txt" "$CONSTRAINTS"
echo "lock.sh: wrote $CONSTRAINTS ($(grep -vc '^#' "$CONSTRAINTS") pins); git diff $CONSTRAINTS shows what moved" >&2
