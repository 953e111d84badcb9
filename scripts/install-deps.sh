#!/usr/bin/env bash
# Installs what capprof needs to build, test and run its examples on a Debian
# machine: the Docker engine and crun, eBPF build tools, debootstrap for the
# example images, and the Docker Compose v2 plugin (built from its Go module,
# since no Debian package ships it). Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
need_root

# Debian packages, by name; each is installed only when dpkg does not have it.
PACKAGES=(
	docker.io ca-certificates xz-utils # Docker engine (20.10) with runc and containerd
	crun                               # the second OCI runtime the tests run (start-dockerd.sh registers it)
	libseccomp-dev pkg-config gcc make # cgo: libseccomp-golang compiles seccomp profiles
	clang llvm libbpf-dev              # make generate: bpf2go compiles tracer/bpf/*.bpf.c
	debootstrap                        # scripts/build-image.sh: the example images' base
	iproute2 curl                      # examples' workloads and checks
	git                                # .ci/run: checks the generated eBPF objects are current
)

# Compose v2 plugin: version and install path.
COMPOSE_MODULE=github.com/docker/compose/v5
COMPOSE_VERSION=v5.6.0
COMPOSE_PLUGIN=${HOME}/.docker/cli-plugins/docker-compose

install_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		log "Debian packages: all ${#PACKAGES[@]} present"
		return
	fi
	log "Debian packages: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	log "Debian packages: installed"
}

install_compose() {
	if [ -x "$COMPOSE_PLUGIN" ] && docker compose version >/dev/null 2>&1; then
		log "compose plugin: present ($(docker compose version --short 2>/dev/null || echo '?'))"
		return
	fi
	command -v go >/dev/null || die "go not found: install Go (expected at /usr/local/go/bin)"
	log "compose plugin: building $COMPOSE_MODULE@$COMPOSE_VERSION into $COMPOSE_PLUGIN (about 2 minutes)"
	local tmp dir
	tmp=$(mktemp -d)
	# `go install` refuses this module (its go.mod has exclude directives), so
	# download its source into the module cache and build it in place; run
	# outside any module so this repository's go.mod is not touched.
	dir=$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$COMPOSE_MODULE@$COMPOSE_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	rmdir "$tmp"
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then
		die "go mod download $COMPOSE_MODULE@$COMPOSE_VERSION gave no source directory"
	fi
	mkdir -p "$(dirname "$COMPOSE_PLUGIN")"
	local build_log=$tmp.log
	(cd "$dir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath \
		-ldflags "-w -X $COMPOSE_MODULE/internal.Version=$COMPOSE_VERSION" \
		-o "$COMPOSE_PLUGIN.tmp" ./cmd) >"$build_log" 2>&1 ||
		{ grep -v '^go: downloading' "$build_log" | tail -n 30 >&2; die "go build of the compose plugin failed (log above)"; }
	rm -f "$build_log"
	mv "$COMPOSE_PLUGIN.tmp" "$COMPOSE_PLUGIN"
	docker compose version >/dev/null || die "built $COMPOSE_PLUGIN but 'docker compose version' fails"
	log "compose plugin: built ($(docker compose version --short))"
}

export PATH=$PATH:/usr/local/go/bin
install_packages
install_compose
