#!/usr/bin/env bash
# Starts the real components the cluster tests run against, on this one machine (Debian/Ubuntu, as root): PostgreSQL 15
# with a role and databases (scripts/postgres-up.sh), munge, and a one-node Slurm cluster (slurmctld and slurmd).
# Installs the packages with apt-get when they are missing. Idempotent: what runs already is left alone, and a second
# call takes about a second. Progress goes to stderr; stdout gets the exports the tests need (postgres-up's
# PGPASSWORD and TRADESIM_TEST_POSTGRES_URL, and TRADESIM_TEST_SLURM), so use it as
#   eval "$(scripts/cluster-up.sh)"
# scripts/cluster-down.sh stops what this started (the daemons by pid, PostgreSQL through postgres-down.sh), nothing
# else.
set -euo pipefail
# Only the exports (ours and postgres-up's) go to stdout: every other command that prints goes to stderr by a
# redirection of its own (`>&2`), not by one `exec` for the script, since a daemon keeps the descriptors it inherits
# and one holding a copy of stdout would keep the caller's `$(…)` from ending.
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "cluster-up.sh: run as root (it installs packages and starts daemons)" >&2; exit 1; }
log() { echo "cluster-up: $*" >&2; }
# What this script started, one `KIND ID` a line, for cluster-down.sh.
state=/run/tradesim-cluster/started
mkdir -p "$(dirname "$state")"
touch "$state"
started() { echo "$1 $2" >>"$state"; }
# Whether the process in pid file $1 is alive.
alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# Waits up to $2 seconds for the command $1 to succeed.
wait_for() {
  local deadline=$((SECONDS + $2))
  until eval "$1" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { log "timed out waiting for: $1"; return 1; }
    sleep 0.2
  done
}

# Packages.
need=()
for p in postgresql slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi

# PostgreSQL: scripts/postgres-up.sh (role, databases); its exports go on to stdout with ours.
scripts/postgres-up.sh

# munge: the key, its folders owned by munge, the daemon as the munge user.
[ -s /etc/munge/munge.key ] || mungekey --create >&2
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
chmod 0700 /etc/munge /var/log/munge
chmod 0755 /run/munge
if ! alive /run/munge/munged.pid; then
  log "starting munged"
  runuser -u munge -- munged >&2
  wait_for "munge -n | unmunge" 10
  started munged "$(cat /run/munge/munged.pid)"
fi

# Slurm: one node with every core of this machine, one default partition.
host=$(hostname)
memory=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
conf=$(cat <<EOF
ClusterName=tradesim
SlurmctldHost=$host
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SlurmUser=root
SlurmdUser=root
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$(nproc) RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
if [ "$(cat /etc/slurm/slurm.conf 2>/dev/null)" != "$conf" ]; then
  log "writing /etc/slurm/slurm.conf"
  echo "$conf" >/etc/slurm/slurm.conf
  # Daemons running on another configuration are restarted (only those this script started before).
  for d in slurmd slurmctld; do
    if alive /run/$d.pid && grep -qx "$d $(cat /run/$d.pid)" "$state"; then
      kill "$(cat /run/$d.pid)"
      wait_for "! kill -0 $(cat /run/$d.pid)" 30
      sed -i "/^$d /d" "$state"
    fi
  done
fi
for d in slurmctld slurmd; do
  if ! alive /run/$d.pid; then
    log "starting $d"
    /usr/sbin/$d >&2
    wait_for "alive /run/$d.pid" 10
    started $d "$(cat /run/$d.pid)"
  fi
done
wait_for "sinfo -h -o %T | grep -qx idle" 60
log "$(sinfo -h -o '%P %D node(s) %T, %c CPUs')"
echo "export TRADESIM_TEST_SLURM=1"
