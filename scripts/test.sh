#!/usr/bin/env bash
# Sets up wattsup with every extra and runs the whole test suite: lint, format, types, tests.
#
# What it installs: .venv/ with wattsup and every extra (pip); with apt-get (as root, or through sudo),
# only where missing, PostgreSQL (for the store tests) and Chromium (for the dashboard's browser tests),
# each with the Debian packages it depends on (Chromium: ~150). It starts a throwaway PostgreSQL server
# unless WATTSUP_TEST_PG_URL is given, and stops it again on exit if it was not running before.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "test.sh: $*" >&2; }
say "setting up .venv (pip); may install PostgreSQL and Chromium with apt-get where missing (see the top of this script)"
scripts/bootstrap.sh test
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
bin=.venv/bin
echo "== ruff"; "$bin/ruff" check src tests benchmarks
echo "== ruff format"; "$bin/ruff" format --check src tests benchmarks
echo "== mypy (strict; a minute or two on a small machine)"; "$bin/mypy"
echo "== postgres"  # a throwaway local server for the store tests, unless one is given
if [ -z "${WATTSUP_TEST_PG_URL:-}" ]; then
  if ! scripts/postgres.sh status >/dev/null 2>&1; then
    # started here: stopped here, however the tests end (its data stays for the next run)
    trap 'scripts/postgres.sh stop || say "could not stop the PostgreSQL server: run scripts/postgres.sh stop"' EXIT
  fi
  if pg_env="$(scripts/postgres.sh env)"; then
    eval "$pg_env"
  else
    echo "scripts/postgres.sh failed: PostgreSQL tests will skip (and fail under CI=true)" >&2
  fi
fi
echo "== chromium"; scripts/chromium.sh || echo "scripts/chromium.sh failed: browser tests will skip (and fail under CI=true)" >&2
echo "== pytest"; "$bin/python" -m pytest "$@"  # not exec: the trap above stops the server
