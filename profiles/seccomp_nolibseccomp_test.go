//go:build !linux || !cgo

package profiles

const libseccompAvailable = false
