#!/usr/bin/env bash
# A throwaway PostgreSQL server for wattsup's tests. Installs PostgreSQL with apt-get when it is missing,
# initialises a private cluster (trust auth, localhost only, fsync off: never put data you care about
# in it), starts it on a free localhost port and creates the database `wattsup`.
#
# Usage: scripts/postgres.sh [env|url|start|status|stop|destroy]
#   env      (default) start it if needed, then print `export WATTSUP_TEST_PG_URL=...` for
#            `eval "$(scripts/postgres.sh env)"`
#   url      start it if needed, then print the SQLAlchemy URL
#   start    start it if needed and say where it is
#   status   say whether it runs (exit 1 if not)
#   stop     stop the server; its data stays for the next start
#   destroy  stop the server and delete its data
#
# Where: $WATTSUP_PGDATA if set, else ${TMPDIR:-/tmp}/wattsup-pg-<uid>-<checksum of this checkout's path>.
# Which PostgreSQL: $PG_BINDIR if set, else the newest /usr/lib/postgresql/*/bin, else initdb on PATH.
# As root, the server runs as the `postgres` user (initdb refuses root); that user must be able to reach
# the directory, so keep $WATTSUP_PGDATA outside /root.
set -euo pipefail
cd "$(dirname "$0")/.."

cmd="${1:-env}"
case "$cmd" in
  env | url | start | status | stop | destroy) ;;
  -h | --help | help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: scripts/postgres.sh [env|url|start|status|stop|destroy]" >&2; exit 2 ;;
esac

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

checkout_sum="$(printf %s "$PWD" | cksum | cut -d' ' -f1)"
base="${WATTSUP_PGDATA:-${TMPDIR:-/tmp}/wattsup-pg-$(id -u)-${checkout_sum}}"
data="$base/data"
db_user="wattsup"
db_name="wattsup"

find_bindir() {
  if [ -n "${PG_BINDIR:-}" ]; then
    [ -x "$PG_BINDIR/initdb" ] || die "PG_BINDIR=$PG_BINDIR has no initdb"
    echo "$PG_BINDIR"
    return 0
  fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r | head -n1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then
    echo "$d"
    return 0
  fi
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  return 1
}

install_postgres() {
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL is not installed and there is no apt-get here;
install PostgreSQL (server binaries: initdb, pg_ctl) and set PG_BINDIR, or set WATTSUP_TEST_PG_URL yourself"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "PostgreSQL is not installed; run 'sudo apt-get install -y postgresql'"
    sudo=(sudo -n)
  fi
  local count
  count="$(apt-get -s install -y postgresql 2>/dev/null | grep -c '^Inst' || true)"
  say "PostgreSQL is not installed; installing it with apt-get: ${count:-some} Debian packages (the server and what it depends on)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -q postgresql >&2 \
    || { "${sudo[@]}" apt-get update -q >&2 && "${sudo[@]}" apt-get install -y -q postgresql >&2; } \
    || die "apt-get install postgresql failed; install it by hand or set WATTSUP_TEST_PG_URL"
}

# The OS user the server runs as: ourselves, or `postgres` when we are root.
run_as=()
server_user="$(id -un)"
setup_user() {
  if [ "$(id -u)" -eq 0 ]; then
    server_user="postgres"
    if ! id -u "$server_user" >/dev/null 2>&1; then
      useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$server_user" \
        || die "cannot create the '$server_user' user to run PostgreSQL (initdb refuses to run as root)"
    fi
    run_as=(runuser -u "$server_user" --)
  fi
}

free_port() {
  local py
  py="$(command -v python3 || command -v python || true)"
  [ -n "$py" ] || die "python3 is needed to find a free port"
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

is_running() {
  [ -f "$data/PG_VERSION" ] && [ -f "$base/port" ] || return 1
  "${run_as[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1 || return 1
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$(cat "$base/port")" >/dev/null 2>&1
}

url() { echo "postgresql+psycopg://${db_user}@127.0.0.1:$(cat "$base/port")/${db_name}"; }

init_cluster() {
  say "initialising a throwaway cluster in $data"
  mkdir -p "$base"
  chmod 700 "$base"
  [ "$(id -u)" -ne 0 ] || chown "$server_user:" "$base"
  rm -rf "$data"
  "${run_as[@]}" "$bindir/initdb" -D "$data" -U "$db_user" --auth=trust -E UTF8 --no-locale >"$base/initdb.log" 2>&1 \
    || { cat "$base/initdb.log" >&2; die "initdb failed (log above)"; }
  # Local and throwaway: localhost only, and durability traded for speed.
  "${run_as[@]}" tee -a "$data/postgresql.conf" >/dev/null <<EOF

# --- wattsup test cluster (scripts/postgres.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$base'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
}

start_cluster() {
  local port
  port="$(cat "$base/port" 2>/dev/null || true)"
  if [ -z "$port" ] || port_in_use "$port"; then
    port="$(free_port)"
  fi
  echo "$port" >"$base/port"
  "${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 -o "-p $port" start >/dev/null 9>&- \
    || { tail -n 30 "$base/server.log" >&2 || true; die "the server did not start (log: $base/server.log)"; }
  if ! "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$db_user" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$db_user" "$db_name"
  fi
  say "running on 127.0.0.1:$port (data: $data)"
}

bindir=""
setup_user
if ! bindir="$(find_bindir)"; then
  case "$cmd" in
    status | stop | destroy) die "PostgreSQL is not installed" ;;
  esac
  install_postgres
  bindir="$(find_bindir)" || die "PostgreSQL was installed but no initdb was found; set PG_BINDIR"
fi

# One caller at a time: concurrent test runs in one checkout share the cluster.
mkdir -p "$(dirname "$base")"
exec 9>"$base.lock"
flock -w 180 9 || die "timed out waiting for another scripts/postgres.sh ($base.lock)"

case "$cmd" in
  status)
    if is_running; then
      say "running: $(url)"
      exit 0
    fi
    say "not running (data: $data)"
    exit 1
    ;;
  stop | destroy)
    if [ -f "$data/PG_VERSION" ] && "${run_as[@]}" "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      "${run_as[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
      say "stopped"
    fi
    if [ "$cmd" = destroy ]; then
      rm -rf "$base" "$base.lock"
      say "deleted $base"
    fi
    exit 0
    ;;
esac

if ! is_running; then
  [ -f "$data/PG_VERSION" ] || init_cluster
  start_cluster
fi

case "$cmd" in
  env) echo "export WATTSUP_TEST_PG_URL=$(url)" ;;
  url) url ;;
  start) say "WATTSUP_TEST_PG_URL=$(url)" ;;
esac
