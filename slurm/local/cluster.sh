#!/usr/bin/env bash
# A real single-node SLURM cluster on this machine, for lhama's SLURM tests (tests/test_slurm.py) and for trying
# the profile by hand. Debian/Ubuntu, as root, without systemd:
#
#   slurm/local/cluster.sh up       install what is missing (apt), write the configs, start munged, MariaDB
#                                   (loopback), slurmdbd, slurmctld, slurmd; register cluster and account;
#                                   wait until the node is idle. A second `up` on a healthy cluster does nothing.
#   slurm/local/cluster.sh status   what runs; exit 0 when the cluster takes jobs
#   slurm/local/cluster.sh down     stop the daemons by their PID files (state is kept for the next `up`)
#
# Node: this host, max(4, nproc) CPUs and RealMemory less 1 GB (LHAMA_SLURM_CPUS / LHAMA_SLURM_MEM_MB override),
# partition `debug`, two fake GPUs of type `fake` (GRES backed by character devices), account `lhama`.
# State (MariaDB data, slurmctld state, logs, PID files) lives in $LHAMA_SLURM_STATE (/var/lib/lhama-slurm), so
# it survives between sessions; configs go to /etc/slurm (where sbatch/sacct look), marked as ours.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${LHAMA_SLURM_STATE:-/var/lib/lhama-slurm}"
CLUSTER="${LHAMA_SLURM_CLUSTER:-lhama}"
PARTITION="${LHAMA_SLURM_PARTITION:-debug}"
ACCOUNT="${LHAMA_SLURM_ACCOUNT:-lhama}"
GPUS="${LHAMA_SLURM_GPUS:-2}"
DB_PORT="${LHAMA_SLURM_DB_PORT:-3316}"
ETC=/etc/slurm
MARKER="# lhama-local-cluster"
PACKAGES=(munge slurm-client slurmctld slurmd slurmdbd mariadb-server)
HOST="$(hostname -s)"

log() { echo "cluster.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() {
    [[ $(id -u) -eq 0 ]] || die "run as root (it installs packages and starts daemons)"
}

daemon() {  # daemon NAME COMMAND...: start a self-daemonizing COMMAND from /, its start-up output in the log dir.
    # Not on our stdout/stderr: a daemon that keeps them open makes a caller reading them (a test's subprocess.run)
    # wait forever for EOF.
    local name=$1
    shift
    (cd / && "$@" </dev/null >>"$STATE/log/$name.start.log" 2>&1) ||
        die "$name did not start: $(tail -3 "$STATE/log/$name.start.log" 2>/dev/null | tr '\n' ' ')(see $STATE/log/)"
}

pid_alive() {  # pid_alive FILE: the process named in FILE runs
    [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_for() {  # wait_for SECONDS WHAT COMMAND...: poll COMMAND every 0.2 s
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || { log "timed out waiting for $what"; return 1; }
        sleep 0.2
    done
}

install_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
    log "installing ${missing[*]}"
    # policy-rc.d 101: the packages' postinst scripts must not try to start services (no systemd here)
    local policy=/usr/sbin/policy-rc.d created_policy=0
    if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1; fi
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null; } || { ((created_policy)) && rm -f "$policy"; die "apt-get install failed"; }
    ((created_policy)) && rm -f "$policy"
    return 0
}

render() {  # render TEMPLATE: the template with @VARS@ filled in, on stdout
    local gres_lines="" i
    for ((i = 0; i < GPUS; i++)); do gres_lines+="NodeName=$HOST Name=gpu Type=fake File=$STATE/dev/fakegpu$i"$'\n'; done
    local cpus mem
    # at least 4 CPUs, oversubscribing a small machine: a 2-task DeepSpeed job with 2 CPUs per task must fit
    cpus="${LHAMA_SLURM_CPUS:-$(($(nproc) > 4 ? $(nproc) : 4))}"
    # RealMemory as slurmd measures it (it refuses a node that declares more than it finds), less 1 GB for the OS
    mem="${LHAMA_SLURM_MEM_MB:-$(($(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p') - 1024))}"
    sed -e "s|@CLUSTER@|$CLUSTER|g" -e "s|@HOST@|$HOST|g" -e "s|@STATE@|$STATE|g" -e "s|@CPUS@|$cpus|g" \
        -e "s|@MEM_MB@|$mem|g" -e "s|@GPUS@|$GPUS|g" -e "s|@PARTITION@|$PARTITION|g" -e "s|@DB_PORT@|$DB_PORT|g" \
        -e "s|@DB_PASS@|$(cat "$STATE/db.pass")|g" "$1" | awk -v lines="$gres_lines" '{ if ($0 == "@GRES_LINES@") printf "%s", lines; else print }'
}

install_conf() {  # install_conf TEMPLATE DEST MODE OWNER: write DEST when it changed; echo "changed" if so
    local tmp
    tmp="$(mktemp)"
    render "$1" >"$tmp"
    if [[ -e $2 ]] && ! grep -q "lhama" "$2"; then rm -f "$tmp"; die "$2 exists and was not written by this script; not touching it"; fi
    if [[ -e $2 ]] && cmp -s "$tmp" "$2"; then rm -f "$tmp"; return 0; fi
    install -m "$3" -o "$4" -g "$4" "$tmp" "$2"
    rm -f "$tmp"
    echo changed
}

write_configs() {  # prints "changed" when any config changed
    mkdir -p "$ETC" "$STATE"/{run,log,slurmctld,slurmd,dev,mysql,mysql-run}
    chmod 755 "$STATE"
    [[ -s $STATE/db.pass ]] || { head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$STATE/db.pass"; chmod 600 "$STATE/db.pass"; }
    chown slurm:slurm "$STATE/log" "$STATE/run"
    chown mysql:mysql "$STATE/mysql-run"
    chmod 775 "$STATE/run" "$STATE/log"
    local i
    for ((i = 0; i < GPUS; i++)); do [[ -c $STATE/dev/fakegpu$i ]] || mknod -m 666 "$STATE/dev/fakegpu$i" c 1 3; done
    # each in turn, not piped into `grep -q`: grep leaving at the first "changed" killed the writer by SIGPIPE
    # before the later files were written (a fresh machine then had no slurmdbd.conf)
    local changed=""
    changed+="$(install_conf "$HERE/slurm.conf.in" "$ETC/slurm.conf" 644 root)"
    changed+="$(install_conf "$HERE/gres.conf.in" "$ETC/gres.conf" 644 root)"
    changed+="$(install_conf "$HERE/slurmdbd.conf.in" "$ETC/slurmdbd.conf" 600 slurm)"
    [[ -z $changed ]] || echo changed
    return 0
}

ensure_hostname() {
    getent hosts "$HOST" >/dev/null || { log "adding $HOST to /etc/hosts"; echo "127.0.0.1 $HOST" >>/etc/hosts; }
}

start_munge() {
    pid_alive /run/munge/munged.pid && return 0
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 755 /run/munge
    [[ -s /etc/munge/munge.key ]] || { mungekey --create --keyfile /etc/munge/munge.key; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
    daemon munged runuser -u munge -- /usr/sbin/munged --force
    wait_for 10 munged bash -c 'munge -n | unmunge'
}

mysql_cli() { mariadb --protocol=socket --socket="$STATE/mysql-run/mysqld.sock" -uroot "$@"; }

start_mariadb() {
    if ! pid_alive "$STATE/mysql-run/mariadb.pid"; then
        chown -R mysql:mysql "$STATE/mysql"
        if [[ ! -d $STATE/mysql/mysql ]]; then
            log "initialising MariaDB in $STATE/mysql"
            mariadb-install-db --user=mysql --datadir="$STATE/mysql" --auth-root-authentication-method=socket \
                --skip-test-db >"$STATE/log/mariadb-install.log" 2>&1 || die "mariadb-install-db failed: $STATE/log/mariadb-install.log"
        fi
        # chdir: mariadbd must not inherit a cwd it cannot read. The redirection covers the background subshell
        # too: one left holding our stdout made a caller that reads it (subprocess.run in the tests) wait forever.
        (cd / && exec setsid mariadbd --user=mysql --datadir="$STATE/mysql" --bind-address=127.0.0.1 --port="$DB_PORT" \
            --socket="$STATE/mysql-run/mysqld.sock" --pid-file="$STATE/mysql-run/mariadb.pid" --log-error="$STATE/mysql-run/mariadb.log" \
            --skip-log-bin --innodb-buffer-pool-size=64M --innodb_lock_wait_timeout=900) </dev/null >/dev/null 2>&1 &
        wait_for 60 "MariaDB" mysql_cli -e "select 1" || die "MariaDB did not start: $STATE/mysql-run/mariadb.log"
    fi
    mysql_cli -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$(cat "$STATE/db.pass")';
        CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$(cat "$STATE/db.pass")';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
}

start_slurmdbd() {
    pid_alive "$STATE/run/slurmdbd.pid" && return 0
    daemon slurmdbd slurmdbd
    wait_for 60 "slurmdbd" sacctmgr -n list cluster || die "slurmdbd did not answer: $STATE/log/slurmdbd.log"
}

register_accounts() {
    sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
    sacctmgr -n -P list account format=account | grep -qx "$ACCOUNT" ||
        sacctmgr -i add account "$ACCOUNT" Cluster="$CLUSTER" Description="lhama tests" Organization=lhama >/dev/null
    local user
    for user in root "${SUDO_USER:-}"; do
        [[ -n $user ]] || continue
        sacctmgr -n -P list assoc user="$user" account="$ACCOUNT" cluster="$CLUSTER" format=user | grep -qx "$user" ||
            sacctmgr -i add user "$user" Account="$ACCOUNT" Cluster="$CLUSTER" >/dev/null
        sacctmgr -i modify user "$user" set DefaultAccount="$ACCOUNT" >/dev/null 2>&1 || true
    done
}

start_slurmctld() {
    pid_alive "$STATE/run/slurmctld.pid" && return 0
    daemon slurmctld slurmctld
    wait_for 30 "slurmctld" scontrol ping || die "slurmctld did not start: $STATE/log/slurmctld.log"
}

start_slurmd() {
    pid_alive "$STATE/run/slurmd.pid" && return 0
    daemon slurmd slurmd
}

node_state() { sinfo -h -n "$HOST" -o %T 2>/dev/null | head -1; }

wait_node_idle() {
    local deadline=$((SECONDS + 60)) state
    while :; do
        state="$(node_state)"
        case "$state" in
            idle | mixed | allocated | completing) return 0 ;;
            *drain* | *inval* | down*)
                # a node drained by an earlier bad config (e.g. GRES without File=) stays drained across restarts
                scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true ;;
        esac
        ((SECONDS < deadline)) || die "node $HOST is '$state', not idle (see $STATE/log/slurmd.log, slurmctld.log)"
        sleep 0.3
    done
}

healthy() {
    pid_alive /run/munge/munged.pid && pid_alive "$STATE/mysql-run/mariadb.pid" && pid_alive "$STATE/run/slurmdbd.pid" &&
        pid_alive "$STATE/run/slurmctld.pid" && pid_alive "$STATE/run/slurmd.pid" &&
        [[ $(node_state) =~ ^(idle|mixed|allocated|completing)$ ]] && timeout 20 sacct -n -X -S now-1minutes >/dev/null 2>&1
}

stop_pidfile() {  # stop_pidfile NAME FILE
    pid_alive "$2" || { rm -f "$2"; return 0; }
    local pid
    pid="$(cat "$2")"
    kill "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
        ((SECONDS < deadline)) || { log "$1 ($pid) ignores SIGTERM; sending SIGKILL"; kill -9 "$pid"; }
        sleep 0.2
    done
    rm -f "$2"
    log "stopped $1"
}

cmd_up() {
    need_root
    local start=$SECONDS changed
    install_packages
    ensure_hostname
    changed="$(write_configs)"
    if [[ -z $changed ]] && healthy; then
        log "already up (partition $PARTITION, account $ACCOUNT, $GPUS fake GPUs); nothing to do"
        return 0
    fi
    if [[ -n $changed ]]; then
        # a new config: restart the SLURM daemons (MariaDB and munge keep running)
        stop_pidfile slurmd "$STATE/run/slurmd.pid"
        stop_pidfile slurmctld "$STATE/run/slurmctld.pid"
        stop_pidfile slurmdbd "$STATE/run/slurmdbd.pid"
    fi
    start_munge
    start_mariadb
    start_slurmdbd
    register_accounts
    start_slurmctld
    start_slurmd
    wait_node_idle
    log "up in $((SECONDS - start)) s: $(sinfo -h -o '%P %D %T %G' | head -1)"
}

cmd_down() {
    need_root
    stop_pidfile slurmd "$STATE/run/slurmd.pid"
    stop_pidfile slurmctld "$STATE/run/slurmctld.pid"
    stop_pidfile slurmdbd "$STATE/run/slurmdbd.pid"
    stop_pidfile MariaDB "$STATE/mysql-run/mariadb.pid"
    stop_pidfile munged /run/munge/munged.pid
}

cmd_status() {
    local name file
    for name in munged:/run/munge/munged.pid mariadb:$STATE/mysql-run/mariadb.pid slurmdbd:$STATE/run/slurmdbd.pid \
        slurmctld:$STATE/run/slurmctld.pid slurmd:$STATE/run/slurmd.pid; do
        file="${name#*:}"
        if pid_alive "$file"; then echo "${name%%:*}: running (pid $(cat "$file"))"; else echo "${name%%:*}: stopped"; fi
    done
    command -v sinfo >/dev/null && sinfo 2>/dev/null || true
    if healthy; then echo "cluster: up"; else echo "cluster: down"; return 1; fi
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *) echo "usage: $0 {up|down|status}" >&2; exit 2 ;;
esac
