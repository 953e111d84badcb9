#!/usr/bin/env bash
# Builds every example's image (see scripts/build-image.sh); skips the ones
# whose recipe has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
start=$SECONDS
n=0
for env in examples/*/image.env; do
	[ -f "$env" ] || continue
	scripts/build-image.sh "$(dirname "$env")"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || die "no examples/*/image.env found"
log "$n example images ready in $((SECONDS - start))s"
