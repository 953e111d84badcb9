//go:build linux && cgo

package profiles

const libseccompAvailable = true
