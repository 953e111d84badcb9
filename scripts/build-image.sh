#!/usr/bin/env bash
# Builds one example's image, capprof-example/<app>:latest, without any image
# registry: from examples/<app>/image.env, a shell file that sets
#
#   PACKAGES   Debian packages installed over a debootstrapped minbase rootfs
#   SETUP      a shell command run in the finished rootfs (chroot), e.g. setcap
#   CMD        the image's CMD, a JSON array   (also ENTRYPOINT, WORKDIR)
#   STATIC_GO  instead of the above: a Go main package (path relative to the
#              example) built with CGO_ENABLED=0 into the context of the
#              example's Dockerfile, which starts FROM scratch
#
# and the files under examples/<app>/rootfs/, copied over the rootfs. The image
# carries the label dev.capprof.content, a sha256 of everything the recipe reads;
# a build whose label already matches is skipped.
#
# Usage: scripts/build-image.sh examples/<app>
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root
export PATH=$PATH:/usr/local/go/bin

[ $# -eq 1 ] || die "usage: $0 examples/<app>"
EXAMPLE=${1%/}
[ -f "$EXAMPLE/image.env" ] || die "$EXAMPLE/image.env: no such file (is $EXAMPLE an example folder?)"
APP=$(basename "$EXAMPLE")
TAG=capprof-example/$APP:latest
LABEL=dev.capprof.content
START=$SECONDS

PACKAGES='' SETUP='' CMD='' ENTRYPOINT='' WORKDIR='' STATIC_GO=''
# shellcheck disable=SC1091
. "$EXAMPLE/image.env"

# recipe_hash prints the sha256 of every input of this image: this script and
# its helpers, the example's recipe files and, for STATIC_GO, the Go source and
# toolchain version.
recipe_hash() {
	{
		echo "suite $(os_codename)"
		local f
		{
			printf '%s\n' scripts/build-image.sh scripts/lib.sh
			find "$EXAMPLE/image.env" "$EXAMPLE/Dockerfile" "$EXAMPLE/rootfs" \
				${STATIC_GO:+"$EXAMPLE/$STATIC_GO"} -type f 2>/dev/null || true
		} | LC_ALL=C sort -u | while read -r f; do
			printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -d' ' -f1)"
		done
		[ -z "$STATIC_GO" ] || go version
	} | sha256sum | cut -d' ' -f1
}

HASH=$(recipe_hash)
if [ "$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$TAG" 2>/dev/null)" = "$HASH" ]; then
	log "$TAG: up to date (${HASH:0:12})"
	exit 0
fi
OLD_ID=$(docker image inspect -f '{{.Id}}' "$TAG" 2>/dev/null || true)
log "$TAG: building (${HASH:0:12})"

CACHE=$(cache_dir)
WORK=$(mktemp -d "$CACHE/build-$APP.XXXXXX")
ROOTFS=$WORK/rootfs

# cleanup unmounts what the chroot had mounted before deleting the work tree;
# --one-file-system keeps rm out of anything still mounted (the package cache).
cleanup() {
	local m
	for m in "$ROOTFS/var/cache/apt/archives" "$ROOTFS/proc"; do
		if mountpoint -q "$m" 2>/dev/null; then umount "$m" || umount -l "$m" || true; fi
	done
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# base_rootfs prints the path of the cached minbase tarball, debootstrapping it
# once. It keeps apt's package lists so that each example installs without an
# `apt-get update`; build_rootfs updates them when they have gone stale.
base_rootfs() {
	local suite mirror base tmp
	suite=$(os_codename)
	base=$CACHE/base-$suite-minbase.tar
	(
		flock 9
		[ -f "$base" ] && exit 0
		command -v debootstrap >/dev/null || die "debootstrap not found: run scripts/install-deps.sh first"
		mirror=$(apt_mirror)
		tmp=$(mktemp -d "$CACHE/base.XXXXXX")
		trap 'umount "$tmp/rootfs/proc" 2>/dev/null || true; rm -rf --one-file-system "$tmp"' EXIT
		log "base: debootstrap --variant=minbase $suite (once; cached in $base)"
		local t=$SECONDS
		debootstrap --variant=minbase "$suite" "$tmp/rootfs" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$tmp/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
		echo "deb $mirror $suite main" >"$tmp/rootfs/etc/apt/sources.list"
		chroot "$tmp/rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin apt-get update -qq
		rm -f "$tmp/rootfs/var/cache/apt/"*.bin "$tmp/rootfs/var/cache/apt/archives/"*.deb
		tar -C "$tmp/rootfs" -cf "$base.tmp" --numeric-owner .
		mv "$base.tmp" "$base"
		log "base: done in $((SECONDS - t))s ($(du -h "$base" | cut -f1))"
	) 9>"$CACHE/base.lock"
	printf '%s\n' "$base"
}

# in_chroot runs a command in the example's rootfs with a clean environment.
in_chroot() {
	chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"
}

# build_rootfs unpacks the base, installs PACKAGES and copies rootfs/ over it.
build_rootfs() {
	local base archives
	base=$(base_rootfs)
	mkdir -p "$ROOTFS"
	tar -C "$ROOTFS" -xf "$base" --numeric-owner
	if [ -n "$PACKAGES" ]; then
		# Downloaded .debs are kept between builds, outside the image.
		archives=$CACHE/apt-archives
		mkdir -p "$archives/partial"
		mount --bind "$archives" "$ROOTFS/var/cache/apt/archives"
		mount -t proc proc "$ROOTFS/proc"
		cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
		# No init system in the chroot: keep package scripts from starting daemons.
		printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
		chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
		echo "deb $(apt_mirror) $(os_codename) main" >"$ROOTFS/etc/apt/sources.list"
		log "$TAG: apt-get install $PACKAGES"
		# shellcheck disable=SC2086 # PACKAGES is a word list
		if ! in_chroot apt-get install -y -qq --no-install-recommends $PACKAGES >"$WORK/apt.log" 2>&1; then
			log "$TAG: install failed with the cached package lists; updating them"
			in_chroot apt-get update -qq
			# shellcheck disable=SC2086
			in_chroot apt-get install -y -qq --no-install-recommends $PACKAGES >"$WORK/apt.log" 2>&1 ||
				{ tail -n 30 "$WORK/apt.log" >&2; die "apt-get install $PACKAGES failed (log above)"; }
		fi
		rm -f "$ROOTFS/usr/sbin/policy-rc.d" "$ROOTFS/etc/resolv.conf"
		umount "$ROOTFS/proc" "$ROOTFS/var/cache/apt/archives"
	fi
	# Package lists and documentation only make the image bigger.
	rm -rf "$ROOTFS/var/lib/apt/lists/"* "$ROOTFS/var/cache/apt/"*.bin "$ROOTFS/var/log/apt/"* \
		"$ROOTFS/usr/share/doc/"* "$ROOTFS/usr/share/man/"* "$ROOTFS/usr/share/info/"*
	if [ -d "$EXAMPLE/rootfs" ]; then
		tar -C "$EXAMPLE/rootfs" -c --owner=0 --group=0 --numeric-owner . |
			tar -C "$ROOTFS" -x --no-overwrite-dir --numeric-owner
	fi
	# SETUP runs in the finished rootfs, e.g. setcap on a program (the
	# import below keeps file capabilities).
	if [ -n "$SETUP" ]; then
		log "$TAG: setup: $SETUP"
		in_chroot /bin/sh -ec "$SETUP"
	fi
}

import_rootfs() {
	local changes=(--change "LABEL $LABEL=$HASH"
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
	[ -z "$CMD" ] || changes+=(--change "CMD $CMD")
	[ -z "$ENTRYPOINT" ] || changes+=(--change "ENTRYPOINT $ENTRYPOINT")
	[ -z "$WORKDIR" ] || changes+=(--change "WORKDIR $WORKDIR")
	# --xattrs keeps security.capability: the file capabilities packages'
	# maintainer scripts and SETUP gave programs (Docker's import keeps them).
	tar -C "$ROOTFS" -c --numeric-owner --xattrs --xattrs-include='security.capability' --exclude='./dev/*' . |
		docker import "${changes[@]}" - "$TAG" >/dev/null
}

build_static_go() {
	local ctx=$WORK/context bin
	[ -f "$EXAMPLE/Dockerfile" ] || die "$EXAMPLE/Dockerfile: STATIC_GO needs a Dockerfile (FROM scratch)"
	bin=$(basename "$STATIC_GO")
	mkdir -p "$ctx"
	log "$TAG: go build ./$EXAMPLE/$STATIC_GO (static)"
	CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$ctx/$bin" "./$EXAMPLE/$STATIC_GO"
	cp "$EXAMPLE/Dockerfile" "$ctx/Dockerfile"
	# The classic builder: FROM scratch needs no registry, and Docker 20.10 with
	# no buildx plugin has nothing else.
	DOCKER_BUILDKIT=0 docker build -q --label "$LABEL=$HASH" -t "$TAG" "$ctx" >"$WORK/build.log" 2>&1 ||
		{ cat "$WORK/build.log" >&2; die "docker build $TAG failed (log above)"; }
}

if [ -n "$STATIC_GO" ]; then
	build_static_go
else
	build_rootfs
	import_rootfs
fi

NEW_ID=$(docker image inspect -f '{{.Id}}' "$TAG")
if [ -n "$OLD_ID" ] && [ "$OLD_ID" != "$NEW_ID" ]; then
	docker image rm "$OLD_ID" >/dev/null 2>&1 || true # still used by a container: keep it
fi
log "$TAG: built in $((SECONDS - START))s ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
