//go:build !linux

package tracer

// MntNSOf fails with ErrUnsupported: mount namespaces are a Linux feature.
func MntNSOf(pid int) (uint32, error) { return 0, ErrUnsupported }

// MntNSIDOf fails with ErrUnsupported: mount namespaces are a Linux feature.
func MntNSIDOf(pid int) (uint64, error) { return 0, ErrUnsupported }
