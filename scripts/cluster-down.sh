#!/usr/bin/env bash
# Stops what scripts/cluster-up.sh started: the daemons by the pids it recorded (slurmd, slurmctld, munged), then
# PostgreSQL through scripts/postgres-down.sh, which stops it only if postgres-up started it. Leaves everything else
# running. Idempotent.
set -uo pipefail
cd "$(dirname "$0")/.."
state=/run/tradesim-cluster/started
if [ -f "$state" ]; then
  # Newest first: slurmd before slurmctld before munged.
  tac "$state" | while read -r kind id; do
    if kill "$id" 2>/dev/null; then
      for _ in $(seq 100); do kill -0 "$id" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$id" 2>/dev/null && kill -9 "$id"
      echo "cluster-down: stopped $kind ($id)" >&2
    fi
  done
  rm -f "$state"
fi
scripts/postgres-down.sh
