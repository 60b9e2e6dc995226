#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests that need a real one (CI runs this before `make test`).
#
# Installs Debian's slurm-wlm, slurmdbd, munge and mariadb-server when missing, writes /etc/slurm/slurm.conf for one
# node on 127.0.0.1 with this machine's real CPUs and memory (`slurmd -C`), and starts munged, MariaDB, slurmdbd,
# slurmctld and slurmd directly (no systemd needed), then waits until `sinfo` shows the node idle. Idempotent: when
# the node already answers with this configuration nothing is restarted; otherwise the daemons are (re)started.
#
# What it gives:
#   - partition `debug` (the default), node = this host, CPUs = the machine's, no cgroups (proctrack/linuxproc,
#     task/none), MpiDefault=none: `srun -n 2 CMD` runs 2 tasks (SLURM_PROCID 0 and 1, SLURM_NTASKS=2,
#     SLURM_JOB_NODELIST = this host) when the machine has 2 CPUs or more.
#   - accounting through slurmdbd + MariaDB, so `sacct -j JOB` answers as on a lab's cluster (Slurm 22.05 has no
#     file-based accounting: jobcomp/filetxt does not feed sacct, and without accounting `sacct` fails).
#   - KillWait=5: scancel and time limits send SIGTERM, then SIGKILL 5 s later (30 s by default).
#
# How a test detects the cluster: `sinfo -h -o %t` exits 0 within a few seconds and prints `idle`, `mix` or `alloc`
# (Tests/KinemaCLITests/SlurmClusterTests.swift does exactly that, with a 10 s limit, and otherwise skips with the
# reason printed). `sinfo` missing from PATH, failing or printing `down`/`drain` means no usable cluster.
#
# Usage: scripts/ci/start-slurm.sh        (root; logs in /var/log/slurm, /var/log/kinema-mariadb.log)
#        scripts/ci/start-slurm.sh --stop (ends the daemons it started)
set -euo pipefail

CLUSTER=kinema
CONF=/etc/slurm/slurm.conf
DBD_CONF=/etc/slurm/slurmdbd.conf
LOGS=/var/log/slurm

say() { echo "start-slurm: $*"; }
die() { echo "start-slurm: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run it as root (it installs packages and starts daemons)"
# One at a time: two builds on one machine may both ask for the cluster.
exec 9> /run/kinema-start-slurm.lock
flock 9

# Ends a daemon by its pid file (never by name: other people's processes are not ours to end).
stop_pidfile() {
  local file=$1
  [ -f "$file" ] || return 0
  local pid
  pid=$(cat "$file" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$file"
}

stop_all() {
  stop_pidfile /run/slurmd.pid
  stop_pidfile /run/slurmctld.pid
  stop_pidfile /run/slurmdbd.pid
}

if [ "${1:-}" = "--stop" ]; then
  stop_all
  say "slurmd, slurmctld and slurmdbd stopped (munged and MariaDB left running)"
  exit 0
fi

# --- packages ---------------------------------------------------------------------------------------------------
need=()
for tool in slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client slurmdbd:slurmdbd munged:munge mariadbd:mariadb-server; do
  command -v "${tool%%:*}" > /dev/null 2>&1 || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Other builds on a shared machine may hold apt's lock for a while: wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=900 update -qq
  apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends slurm-wlm slurmdbd munge mariadb-server > /dev/null
fi

# --- configuration ----------------------------------------------------------------------------------------------
host=$(hostname -s)
# The node as slurmd sees it (CPUs, sockets, cores, threads, memory), so the node is never drained for claiming
# more than it has.
node_line=$(slurmd -C | head -1)
case "$node_line" in NodeName=*) ;; *) die "slurmd -C did not describe this machine: $node_line" ;; esac
node_line=${node_line/NodeName=* CPUs=/NodeName=$host NodeAddr=127.0.0.1 CPUs=}
# A little memory left to the system (slurmd -C reports all of it).
memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<< "$node_line")
node_line=${node_line/RealMemory=$memory/RealMemory=$((memory * 9 / 10))}

mkdir -p /etc/slurm "$LOGS" /var/spool/slurmctld /var/spool/slurmd /var/lib/slurm
new_conf=$(cat << EOF
# Written by scripts/ci/start-slurm.sh: one node on this machine, for Kinema's tests.
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
# No cgroups needed: processes are tracked through their parents, tasks are not confined.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
KillWait=5
MinJobAge=300
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=60
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
JobCompType=jobcomp/none
$node_line State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
)
new_dbd=$(cat << EOF
# Written by scripts/ci/start-slurm.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=/run/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
)

node_state() { timeout 10 sinfo -h -n "$host" -o %t 2> /dev/null | head -1 || true; }

if [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$new_conf" ] && [ -f "$DBD_CONF" ] && [ "$(cat "$DBD_CONF")" = "$new_dbd" ] \
  && timeout 10 sacct -n -X -j 1 > /dev/null 2>&1; then
  case "$(node_state)" in
    idle* | mix* | alloc* | comp*)
      say "already running: node $host $(node_state), $(sinfo -h -o %c) CPUs"
      exit 0 ;;
  esac
fi

printf '%s\n' "$new_conf" > "$CONF"
printf '%s\n' "$new_dbd" > "$DBD_CONF"
chmod 600 "$DBD_CONF"
stop_all

# --- munge ------------------------------------------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  say "creating the munge key"
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n 2> /dev/null | unmunge > /dev/null 2>&1; then
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged 9>&-
  for _ in $(seq 50); do munge -n 2> /dev/null | unmunge > /dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge > /dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
fi

# --- MariaDB, for slurmdbd --------------------------------------------------------------------------------------
if ! mariadb-admin ping > /dev/null 2>&1; then
  mkdir -p /run/mysqld
  chown mysql:mysql /run/mysqld
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql > /dev/null
  # Started directly (mysqld_safe would restart it; the init script wants a service manager's helpers).
  setsid nohup runuser -u mysql -- /usr/sbin/mariadbd --skip-networking=0 --bind-address=127.0.0.1 \
    > /var/log/kinema-mariadb.log 2>&1 9>&- &
  for _ in $(seq 300); do mariadb-admin ping > /dev/null 2>&1 && break; sleep 0.1; done
  mariadb-admin ping > /dev/null 2>&1 || die "MariaDB did not start (see /var/log/kinema-mariadb.log)"
fi
mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"

# --- Slurm daemons ----------------------------------------------------------------------------------------------
# Every daemon starts without fd 9: one that kept the lock would block the next run of this script for ever.
slurmdbd 9>&-
for _ in $(seq 300); do timeout 5 sacctmgr -n list cluster > /dev/null 2>&1 && break; sleep 0.1; done
timeout 10 sacctmgr -n list cluster > /dev/null 2>&1 || die "slurmdbd does not answer (see $LOGS/slurmdbd.log)"
if ! sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER"; then
  sacctmgr -i add cluster "$CLUSTER" > /dev/null
fi
slurmctld 9>&-
slurmd 9>&-
for _ in $(seq 300); do
  case "$(node_state)" in idle* | mix* | alloc*) break ;; esac
  sleep 0.2
done
state=$(node_state)
case "$state" in
  idle* | mix* | alloc*) ;;
  down* | drain*)
    scontrol update nodename="$host" state=resume > /dev/null 2>&1 || true
    sleep 1
    state=$(node_state) ;;
esac
case "$state" in
  idle* | mix* | alloc*) say "node $host $state: $(sinfo -h -o '%c CPUs, %m MB') (logs in $LOGS)" ;;
  *) die "the node is '$state', not idle (see $LOGS/slurmctld.log and $LOGS/slurmd.log)" ;;
esac
