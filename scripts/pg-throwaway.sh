#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the test suite.
#   eval "$(scripts/pg-throwaway.sh start)"   # exports PHONEPE_TEST_POSTGRES_URL, PHONEPE_PG_DIR
#   scripts/pg-throwaway.sh stop "$PHONEPE_PG_DIR"
# PostgreSQL refuses to run as root, so as root the cluster belongs to a dedicated
# OS user (phonepe-pg, created on first use). It listens on 127.0.0.1 only.
set -euo pipefail

bindir=""
if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
  bindir="$(pg_config --bindir)"
fi
if [ -z "$bindir" ]; then
  bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
fi
[ -x "$bindir/initdb" ] || { echo "pg-throwaway: PostgreSQL server binaries not found" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u phonepe-pg -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if [ "$(id -u)" -eq 0 ] && ! id phonepe-pg >/dev/null 2>&1; then
      useradd --system --no-create-home --shell /usr/sbin/nologin phonepe-pg
    fi
    dir="$(mktemp -d /tmp/phonepe-pg.XXXXXX)"
    chmod 700 "$dir"
    [ "$(id -u)" -eq 0 ] && chown phonepe-pg "$dir"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    as_owner "$bindir/initdb" -D "$dir/data" -U phonepe --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U phonepe phonepe_test
    echo "export PHONEPE_TEST_POSTGRES_URL=postgresql://phonepe@127.0.0.1:$port/phonepe_test"
    echo "export PHONEPE_PG_DIR=$dir"
    ;;
  stop)
    dir="${2:?usage: pg-throwaway.sh stop DIR}"
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg-throwaway.sh start | stop DIR" >&2; exit 2 ;;
esac
