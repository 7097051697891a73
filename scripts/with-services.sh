#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL cluster and Redis server, stopped on every exit.
#
#   scripts/with-services.sh .venv/bin/pytest
#
# DATABASE_URL, CACHE_URL and CELERY_BROKER_URL that are already set are used as they are;
# only the missing services are started. Data lives in a temporary folder removed at exit.
set -euo pipefail

PG_VERSION="${PG_VERSION:-15}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/${PG_VERSION}/bin}"
workdir="$(mktemp -d -t tailor-services.XXXXXX)"
pg_started=""
redis_pid=""

log() { printf '[services] %s\n' "$*" >&2; }

as_postgres() {
  # initdb and postgres refuse to run as root: use the postgres system user there.
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cleanup() {
  local status=$?
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  if [ -n "$pg_started" ]; then as_postgres "$PG_BIN/pg_ctl" -D "$workdir/pg" -m immediate -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$workdir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${DATABASE_URL:-}" ]; then
  [ -x "$PG_BIN/initdb" ] || { log "PostgreSQL ${PG_VERSION} is not installed at $PG_BIN (set PG_BIN or DATABASE_URL)"; exit 2; }
  pg_port="$(free_port)"
  mkdir -p "$workdir/pg"
  if [ "$(id -u)" = "0" ]; then chown -R postgres: "$workdir"; chmod 700 "$workdir"; fi
  as_postgres "$PG_BIN/initdb" -D "$workdir/pg" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$workdir/initdb.log" 2>&1 \
    || { cat "$workdir/initdb.log" >&2; exit 2; }
  # A throwaway cluster: durability traded for speed.
  as_postgres "$PG_BIN/pg_ctl" -D "$workdir/pg" -l "$workdir/pg.log" -w -t 60 \
    -o "-p $pg_port -k $workdir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { cat "$workdir/pg.log" >&2; exit 2; }
  pg_started=1
  as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres tailor
  export DATABASE_URL="postgres://postgres@127.0.0.1:${pg_port}/tailor"
  log "PostgreSQL ${PG_VERSION} on 127.0.0.1:${pg_port}"
fi

if [ -z "${CELERY_BROKER_URL:-}" ] || [ -z "${CACHE_URL:-}" ]; then
  command -v redis-server >/dev/null || { log "redis-server is missing (run: make system-deps)"; exit 2; }
  redis_port="$(free_port)"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$workdir" \
    --logfile "$workdir/redis.log" &
  redis_pid=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  redis-cli -p "$redis_port" ping >/dev/null || { cat "$workdir/redis.log" >&2; exit 2; }
  export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:${redis_port}/0}"
  export CACHE_URL="${CACHE_URL:-redis://127.0.0.1:${redis_port}/1}"
  log "Redis on 127.0.0.1:${redis_port}"
fi

"$@"
