#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the dashboard's browser tests (tests/web), which drive
# it headless with Playwright. Installs it with apt-get when /usr/bin/chromium is missing; never
# downloads Playwright's own browsers (`playwright install` is not needed).
#
# Usage: scripts/chromium.sh        exits 0 when Chromium is there (or was installed), 1 if it cannot be.
# Under CI=true a failure matters: the browser tests fail rather than skip without Chromium.
set -euo pipefail

say() { echo "chromium.sh: $*" >&2; }
bin=/usr/bin/chromium

if [ -x "$bin" ]; then
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || {
  say "$bin is missing and there is no apt-get here; install Chromium by hand (browser tests will skip, and fail under CI=true)"
  exit 1
}
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { say "$bin is missing; run 'sudo apt-get install -y chromium'"; exit 1; }
  sudo=(sudo -n)
fi
count="$(apt-get -s install -y chromium 2>/dev/null | grep -c '^Inst' || true)"
say "Chromium is not installed; installing it with apt-get: ${count:-some} Debian packages (Chromium and what it depends on)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -q chromium >&2 \
  || { "${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" apt-get install -y -q chromium >&2; } \
  || { say "apt-get install chromium failed; install it by hand"; exit 1; }
[ -x "$bin" ] || { say "apt-get finished but $bin is still missing"; exit 1; }
say "installed $("$bin" --version 2>/dev/null | head -n1)"
