#!/usr/bin/env bash
# Sets up wattsup with every extra and runs the whole test suite: lint, format, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
bin=.venv/bin
echo "== ruff"; "$bin/ruff" check src tests benchmarks
echo "== ruff format"; "$bin/ruff" format --check src tests benchmarks
echo "== mypy"; "$bin/mypy"
echo "== postgres"  # a throwaway local server for the store tests, unless one is given
if [ -z "${WATTSUP_TEST_PG_URL:-}" ]; then
  if pg_env="$(scripts/postgres.sh env)"; then
    eval "$pg_env"
  else
    echo "scripts/postgres.sh failed: PostgreSQL tests will skip (and fail under CI=true)" >&2
  fi
fi
echo "== chromium"; scripts/chromium.sh || echo "scripts/chromium.sh failed: browser tests will skip (and fail under CI=true)" >&2
echo "== pytest"; "$bin/python" -m pytest "$@"
