#!/usr/bin/env bash
# The long soak of a deployment of several servers on one PostgreSQL (docs/scale-out.md): the
# chaos test (crates/cli/tests/chaos.rs) with 100 `kill -9`s of random servers, PostgreSQL
# restarted after every fifth, and pipelines long enough to be running through all of it.
#
# PostgreSQL here is a cluster of the soak's own (Debian's initdb, port 5499, data under
# /var/tmp/sluice-soak-pg), so restarting it disturbs nothing else; it is stopped at the end.
#
#   scripts/soak.sh                        # defaults below
#   SLUICE_CHAOS_KILLS=20 scripts/soak.sh  # shorter
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/sluice-target}"
export SLUICE_CHAOS_KILLS="${SLUICE_CHAOS_KILLS:-100}"
export SLUICE_CHAOS_PIPELINES="${SLUICE_CHAOS_PIPELINES:-10}"
export SLUICE_CHAOS_ACTIVITIES="${SLUICE_CHAOS_ACTIVITIES:-200}"

pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"
pg_data="${SOAK_PG_DATA:-/var/tmp/sluice-soak-pg}"
export PGPORT="${SOAK_PG_PORT:-5499}"
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ ! -f "$pg_data/PG_VERSION" ]; then
  mkdir -p "$pg_data"
  [ "$(id -u)" = 0 ] && chown postgres "$pg_data"
  as_postgres "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust >/dev/null
fi
pg_ctl() {
  as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w \
    -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k /tmp" "$@"
}
pg_ctl status >/dev/null 2>&1 || pg_ctl start >/dev/null
trap 'pg_ctl stop -m fast >/dev/null' EXIT
psql -h 127.0.0.1 -U postgres -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = 'test'" \
  | grep -q 1 || psql -h 127.0.0.1 -U postgres -d postgres -qc 'CREATE DATABASE test'

export SLUICE_CHAOS_PG_RESTART="runuser -u postgres -- $pg_bin/pg_ctl -D $pg_data -l $pg_data/server.log -w -m fast -o '-p $PGPORT -c listen_addresses=127.0.0.1 -k /tmp' restart >/dev/null"
[ "$(id -u)" = 0 ] || SLUICE_CHAOS_PG_RESTART="${SLUICE_CHAOS_PG_RESTART#runuser -u postgres -- }"
cargo test --quiet -p sluice --test chaos -- --nocapture
