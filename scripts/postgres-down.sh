#!/usr/bin/env bash
# Stops the PostgreSQL cluster that scripts/postgres-up.sh started; leaves a cluster that was running before alone.
# Idempotent.
set -uo pipefail
state=/run/tradesim-postgres/started
[ -s "$state" ] || exit 0
cluster=$(cat "$state")
pg_ctlcluster "${cluster%/*}" "${cluster#*/}" stop && echo "postgres-down: stopped PostgreSQL $cluster" >&2
rm -f "$state"
