#!/usr/bin/env bash
# Starts the Docker daemon in the background unless one already answers, then
# waits until it does. There is no init system to do this on a CI machine.
# The daemon must know crun as a second OCI runtime (runc stays the default):
# it is registered in /etc/docker/daemon.json, which a running daemon rereads
# on SIGHUP, so containers that are running keep running. Only when a reload
# does not register it is the daemon restarted, which stops its containers.
# On a hybrid cgroup host crun also needs the cgroup v2 hierarchy to hold no
# controller; the ones left there are mounted as v1 hierarchies.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root

LOG=${CAPPROF_DOCKERD_LOG:-/var/log/capprof-dockerd.log}
WAIT_SECONDS=${CAPPROF_DOCKERD_WAIT:-60}
DAEMON_JSON=/etc/docker/daemon.json
CRUN=/usr/bin/crun
CGROUP_ROOT=/sys/fs/cgroup

# has_crun tells whether the answering daemon knows the crun runtime.
has_crun() {
	docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"crun":'
}

# configure_crun registers crun in daemon.json by writing the file when there
# is none. A daemon.json that names crun is left as it is; one that does not
# is someone else's and is not edited: it stops with what to add.
configure_crun() {
	[ -x "$CRUN" ] || die "$CRUN not found: run scripts/install-deps.sh first"
	if [ -f "$DAEMON_JSON" ]; then
		grep -q '"crun"' "$DAEMON_JSON" && return
		die "$DAEMON_JSON exists but registers no crun runtime: add \"runtimes\": {\"crun\": {\"path\": \"$CRUN\"}} to it, then rerun"
	fi
	log "dockerd: registering runtime crun=$CRUN in $DAEMON_JSON"
	mkdir -p "$(dirname "$DAEMON_JSON")"
	printf '{\n\t"runtimes": {\n\t\t"crun": {"path": "%s"}\n\t}\n}\n' "$CRUN" >"$DAEMON_JSON.tmp"
	mv "$DAEMON_JSON.tmp" "$DAEMON_JSON"
}

# empty_unified_hierarchy mounts every controller that a hybrid host left on
# the cgroup v2 hierarchy (/sys/fs/cgroup/unified) as a v1 hierarchy of its
# own, as systemd's hybrid mode does: crun refuses to start containers
# otherwise ("cgroups in hybrid mode not supported, drop all controllers from
# cgroupv2"). runc uses the new hierarchy too; nothing else changes.
empty_unified_hierarchy() {
	local controllers=$CGROUP_ROOT/unified/cgroup.controllers c left
	[ -f "$controllers" ] || return 0 # cgroup v2 only, or v1 only: nothing to do
	read -r -a left <"$controllers" || true # one line, space-separated; empty when done
	for c in "${left[@]}"; do
		log "cgroups: mounting controller $c as a v1 hierarchy at $CGROUP_ROOT/$c (crun refuses hybrid hosts whose v2 hierarchy holds controllers)"
		mkdir -p "$CGROUP_ROOT/$c"
		mount -t cgroup -o "$c" cgroup "$CGROUP_ROOT/$c" ||
			die "could not mount cgroup controller $c at $CGROUP_ROOT/$c: crun cannot start containers while $controllers lists it"
	done
}

# wait_for tries the command every half second for up to $1 seconds.
wait_for() {
	local seconds=$1 i
	shift
	for ((i = 0; i < seconds * 2; i++)); do
		"$@" && return 0
		sleep 0.5
	done
	return 1
}

# no_dockerd succeeds once no dockerd process is left.
# shellcheck disable=SC2317 # called through wait_for
no_dockerd() {
	! pidof dockerd >/dev/null
}

empty_unified_hierarchy
if docker info >/dev/null 2>&1 && has_crun; then
	log "dockerd: already answering, runtimes runc (default: $(docker info --format '{{.DefaultRuntime}}')) and crun"
	exit 0
fi
command -v dockerd >/dev/null || die "dockerd not found: run scripts/install-deps.sh first"
configure_crun

if docker info >/dev/null 2>&1; then
	pids=$(pidof dockerd) || die "docker answers, but no dockerd process is visible here to reload: register crun=$CRUN with that daemon"
	log "dockerd: answering without the crun runtime; reloading its configuration (SIGHUP to pid $pids)"
	# shellcheck disable=SC2086 # one pid a word
	kill -HUP $pids
	if wait_for 10 has_crun; then
		log "dockerd: crun registered by the reload; running containers were not touched"
		exit 0
	fi
	running=$(docker ps -q | wc -l)
	log "dockerd: the reload did not register crun (see $LOG); restarting dockerd, which stops its $running running container(s)"
	# shellcheck disable=SC2086 # one pid a word
	kill -TERM $pids
	# dockerd gives containers 15 s to stop before it kills them.
	wait_for 60 no_dockerd || die "dockerd (pid $pids) did not stop within 60s after SIGTERM"
fi

if pidof dockerd >/dev/null; then
	log "dockerd: running but not answering yet; waiting"
else
	log "dockerd: starting (log: $LOG)"
	# setsid: the daemon outlives this script and its caller's process group.
	setsid dockerd >>"$LOG" 2>&1 </dev/null &
fi

for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
	if docker info >/dev/null 2>&1; then
		has_crun || die "dockerd answers but has no crun runtime (was it started with another --config-file?): register crun=$CRUN with it"
		log "dockerd: answering after $((i / 2))s, runtimes runc (default: $(docker info --format '{{.DefaultRuntime}}')) and crun"
		exit 0
	fi
	sleep 0.5
done
echo "--- last lines of $LOG ---" >&2
tail -n 30 "$LOG" >&2 || true
die "dockerd did not answer within ${WAIT_SECONDS}s: see $LOG"
