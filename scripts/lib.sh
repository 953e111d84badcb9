# Shared helpers for capprof's scripts; sourced, never run.
# shellcheck shell=bash

# CI runs with a trimmed environment: the compose plugin and Go's caches live
# under HOME, so make sure it is set.
: "${HOME:=$(getent passwd "$(id -u)" | cut -d: -f6)}"
export HOME

# log prints a progress line to stderr, prefixed with the calling script's name.
log() {
	printf '%s: %s\n' "$(basename "$0")" "$*" >&2
}

# die prints an error and what to do next, then exits 1.
die() {
	printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
	exit 1
}

# need_root stops a script that installs packages or talks to dockerd as a normal user.
need_root() {
	[ "$(id -u)" = 0 ] || die "run as root (it installs packages, starts dockerd and builds images)"
}

# os_codename prints the Debian suite this machine runs (bookworm…).
os_codename() {
	# shellcheck disable=SC1091
	(. /etc/os-release && printf '%s\n' "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}")
}

# apt_mirror prints the Debian mirror that apt on this machine already uses for the
# main suite, read from apt's own sources (deb822 .sources first, then one-line
# .list files), so that no host name is ever written into the repository.
apt_mirror() {
	local suite f uri
	suite=$(os_codename)
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: paragraphs separated by blank lines; pick the first whose
		# Suites: line names the plain suite (not -security/-updates).
		uri=$(awk -v suite="$suite" '
			BEGIN { RS = ""; FS = "\n" }
			{
				uris = ""; ok = 0; enabled = 1
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, u, /[ \t]+/); uris = u[1] }
					if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == suite) ok = 1 }
					if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
				}
				if (ok && enabled && uris != "") { print uris; exit }
			}' "$f")
		if [ -n "$uri" ]; then
			printf '%s\n' "${uri%/}"
			return 0
		fi
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		# deb [options] URI SUITE COMPONENT…
		uri=$(awk -v suite="$suite" '
			$1 == "deb" {
				i = 2
				if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == suite) { print $i; exit }
			}' "$f")
		if [ -n "$uri" ]; then
			printf '%s\n' "${uri%/}"
			return 0
		fi
	done
	die "no Debian mirror for suite $suite in apt's sources (/etc/apt/sources.list*): configure apt first"
}

# cache_dir prints (and creates) the directory holding capprof's build caches.
cache_dir() {
	local d=${CAPPROF_CACHE_DIR:-/var/cache/capprof}
	mkdir -p "$d"
	printf '%s\n' "$d"
}
