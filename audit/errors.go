package audit

import "errors"

var (
	// ErrLoad wraps every failure to read, parse, interpolate or merge the
	// compose files: the CLI exits 2 on it, as on a usage error.
	ErrLoad = errors.New("load compose project")
	// ErrSeverity is an unknown severity name.
	ErrSeverity = errors.New("unknown severity")
)
