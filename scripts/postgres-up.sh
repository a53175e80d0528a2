#!/usr/bin/env bash
# Starts a PostgreSQL 15 cluster for tradesim's PostgreSQL store on this machine (Debian/Ubuntu, as root): installs the
# package with apt-get when it is missing, starts cluster 15/main, and creates the role `tradesim` (password
# `tradesim`, may create databases) with the databases `tradesim` (for runs) and `tradesim_test` (for the tests, which
# make one schema per test). Idempotent: what runs or exists already is left alone.
# Progress goes to stderr; stdout gets the exports the tests need, so use it as
#   eval "$(scripts/postgres-up.sh)"
# scripts/postgres-down.sh stops the cluster if (and only if) this script started it.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "postgres-up.sh: run as root (it installs packages and starts the server)" >&2; exit 1; }
log() { echo "postgres-up: $*" >&2; }
version=15 cluster=main
state=/run/tradesim-postgres/started

install_postgres() {
  dpkg -s "postgresql-$version" >/dev/null 2>&1 && return
  log "installing postgresql-$version"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$version" >&2
}

start_cluster() {
  pg_lsclusters -h "$version" "$cluster" >/dev/null 2>&1 || pg_createcluster "$version" "$cluster" >&2
  if ! pg_lsclusters -h "$version" "$cluster" | grep -q online; then
    log "starting PostgreSQL $version/$cluster"
    # To stderr: stdout is for the exports (it prints "Removed stale pid file." after an unclean stop).
    pg_ctlcluster "$version" "$cluster" start >&2
    mkdir -p "$(dirname "$state")"
    echo "$version/$cluster" >"$state"
  fi
  local deadline=$((SECONDS + 30))
  until runuser -u postgres -- psql -qAt -c 'select 1' >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { log "PostgreSQL did not answer within 30 s"; return 1; }
    sleep 0.2
  done
}

create_role_and_databases() {
  runuser -u postgres -- psql -qAt -v ON_ERROR_STOP=1 >&2 <<'SQL'
SELECT 'CREATE ROLE tradesim LOGIN CREATEDB PASSWORD ''tradesim'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tradesim')
\gexec
SELECT 'CREATE DATABASE tradesim OWNER tradesim'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tradesim')
\gexec
SELECT 'CREATE DATABASE tradesim_test OWNER tradesim'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'tradesim_test')
\gexec
SQL
}

install_postgres
start_cluster
create_role_and_databases
port=$(pg_lsclusters -h "$version" "$cluster" | awk '{print $3}')
log "postgresql://tradesim@127.0.0.1:$port/tradesim ready"
echo "export PGPASSWORD=tradesim"
echo "export TRADESIM_POSTGRES_URL=postgresql://tradesim@127.0.0.1:$port/tradesim"
echo "export TRADESIM_TEST_POSTGRES_URL=postgresql://tradesim@127.0.0.1:$port/tradesim_test"
