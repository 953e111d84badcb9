#!/usr/bin/env bash
# Starts the Docker daemon in the background unless one already answers, then
# waits until it does. There is no init system to do this on a CI machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root

LOG=${CAPPROF_DOCKERD_LOG:-/var/log/capprof-dockerd.log}
WAIT_SECONDS=${CAPPROF_DOCKERD_WAIT:-60}

if docker info >/dev/null 2>&1; then
	log "dockerd: already answering"
	exit 0
fi
command -v dockerd >/dev/null || die "dockerd not found: run scripts/install-deps.sh first"

if pidof dockerd >/dev/null; then
	log "dockerd: running but not answering yet; waiting"
else
	log "dockerd: starting (log: $LOG)"
	# setsid: the daemon outlives this script and its caller's process group.
	setsid dockerd >>"$LOG" 2>&1 </dev/null &
fi

for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
	if docker info >/dev/null 2>&1; then
		log "dockerd: answering after $((i / 2))s"
		exit 0
	fi
	sleep 0.5
done
echo "--- last lines of $LOG ---" >&2
tail -n 30 "$LOG" >&2 || true
die "dockerd did not answer within ${WAIT_SECONDS}s: see $LOG"
