#!/usr/bin/env bash
# The long soak of a deployment of several servers on one PostgreSQL (docs/scale-out.md): the
# chaos test (crates/cli/tests/chaos.rs) with 100 `kill -9`s of random servers, PostgreSQL
# restarted after every fifth, and pipelines long enough to be running through all of it.
# It restarts the PostgreSQL cluster the tests use: run it alone, not beside other tests.
#
#   scripts/soak.sh                       # defaults below
#   SLUICE_CHAOS_KILLS=20 scripts/soak.sh # shorter
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/sluice-target}"
export SLUICE_CHAOS_KILLS="${SLUICE_CHAOS_KILLS:-100}"
export SLUICE_CHAOS_PIPELINES="${SLUICE_CHAOS_PIPELINES:-10}"
export SLUICE_CHAOS_ACTIVITIES="${SLUICE_CHAOS_ACTIVITIES:-200}"
export SLUICE_CHAOS_PG_RESTART="${SLUICE_CHAOS_PG_RESTART:-pg_ctlcluster 15 main restart}"
exec cargo test --quiet -p sluice --test chaos -- --nocapture
