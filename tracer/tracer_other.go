//go:build !linux || !(amd64 || arm64)

package tracer

// Tracer is not available on this system; New always fails.
type Tracer struct{}

// New fails with ErrUnsupported: the tracer needs Linux on amd64 or arm64.
func New() (*Tracer, error) { return nil, ErrUnsupported }

// Close does nothing.
func (t *Tracer) Close() error { return nil }

// Notes returns nothing.
func (t *Tracer) Notes() []string { return nil }

// Snapshot fails with ErrUnsupported.
func (t *Tracer) Snapshot() (*Snapshot, error) { return nil, ErrUnsupported }
