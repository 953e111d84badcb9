// Package profiles turns what a trace run recorded into least-privilege
// artifacts: a Recording becomes a Policy, and a Policy becomes a compose
// override, a Docker seccomp profile and a report.
//
// It is pure data: it imports no Docker client and no eBPF, so every rule in
// it can be tested anywhere and fast. Only ValidateSeccomp needs cgo and
// libseccomp, because it compiles a profile the way the container runtime will.
package profiles
