package tracer

import "errors"

var (
	// ErrNotRoot is returned by New when the process is not root.
	ErrNotRoot = errors.New("tracing needs root: run capprof as root (sudo)")
	// ErrNoBTF is returned by New when the kernel exposes no BTF
	// (/sys/kernel/btf/vmlinux), which the programs need to find struct fields.
	ErrNoBTF = errors.New("kernel has no BTF (/sys/kernel/btf/vmlinux): use a kernel built with CONFIG_DEBUG_INFO_BTF=y")
	// ErrClosed is returned by Snapshot after Close.
	ErrClosed = errors.New("tracer is closed")
	// ErrUnsupported is returned on operating systems and architectures the
	// tracer does not support.
	ErrUnsupported = errors.New("tracing is supported on Linux amd64 and arm64 only")
)
