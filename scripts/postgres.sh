#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL server on loopback for the tests.
#   scripts/postgres.sh start DIR PORT   -> writes DIR/url (a SQLAlchemy URL)
#   scripts/postgres.sh stop DIR PORT
set -euo pipefail
action=${1:?start or stop}
dir=${2:-/tmp/commops-pg}
port=${3:-54329}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi

# PostgreSQL refuses to run as root; run it as the 'postgres' user when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

case "$action" in
start)
  if [ -f "$dir/url" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "PostgreSQL already running: $(cat "$dir/url")"
    exit 0
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
  echo "postgresql+psycopg://postgres@127.0.0.1:$port/postgres" > "$dir/url"
  echo "PostgreSQL running: $(cat "$dir/url")"
  ;;
stop)
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -f "$dir/url"
  ;;
*)
  echo "usage: $0 start|stop DIR PORT" >&2
  exit 2
  ;;
esac
