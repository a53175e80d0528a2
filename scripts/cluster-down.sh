#!/usr/bin/env bash
# Stops what scripts/cluster-up.sh started, by the pids it recorded (slurmd, slurmctld, munged) and, when it started
# PostgreSQL, that cluster; leaves everything else running. Idempotent.
set -uo pipefail
cd "$(dirname "$0")/.."
state=/run/tradesim-cluster/started
[ -f "$state" ] || exit 0
# Newest first: slurmd before slurmctld before munged.
tac "$state" | while read -r kind id; do
  case "$kind" in
    postgresql)
      if [ -x scripts/postgres-down.sh ]; then scripts/postgres-down.sh; else pg_ctlcluster ${id%/*} ${id#*/} stop; fi
      ;;
    *)
      if kill "$id" 2>/dev/null; then
        for _ in $(seq 100); do kill -0 "$id" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$id" 2>/dev/null && kill -9 "$id"
        echo "cluster-down: stopped $kind ($id)" >&2
      fi
      ;;
  esac
done
rm -f "$state"
