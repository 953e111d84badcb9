package profiles

import "errors"

// Sentinel errors of this package; match them with errors.Is.
var (
	// ErrUnknownCapability is returned for a capability name or number the
	// kernel headers capprof was built with do not know.
	ErrUnknownCapability = errors.New("unknown capability")
	// ErrDeviceNoHostPath is returned for a recorded device node the host has
	// no path for: compose's devices: needs one.
	ErrDeviceNoHostPath = errors.New("device has no host path")
	// ErrDeviceAccess is returned for a device access string that is not a
	// subset of "rwm".
	ErrDeviceAccess = errors.New("invalid device access")
	// ErrInvalidSyscall is returned for a system call name that cannot be one.
	ErrInvalidSyscall = errors.New("invalid system call name")
	// ErrUnknownArch is returned for an architecture capprof cannot emit a
	// seccomp profile for.
	ErrUnknownArch = errors.New("unsupported architecture")
	// ErrNoSubstitute is returned when the engine rejects a needed capability
	// by name and no capability it accepts covers it.
	ErrNoSubstitute = errors.New("engine rejects capability and nothing covers it")
	// ErrSeccompPath is returned for a seccomp path that is not relative to
	// the compose project directory.
	ErrSeccompPath = errors.New("invalid seccomp path")
	// ErrNoService is returned for a recording without a service name.
	ErrNoService = errors.New("recording has no service name")
	// ErrInvalidSeccomp is returned by ValidateSeccomp for a profile the
	// runtime would reject or compile differently from what it says.
	ErrInvalidSeccomp = errors.New("invalid seccomp profile")
	// ErrNoLibseccomp is returned by ValidateSeccomp in builds without cgo or
	// off Linux, where system call names cannot be resolved.
	ErrNoLibseccomp = errors.New("seccomp profile not compiled: built without libseccomp")
	// ErrInvalidSysctl is returned for a recorded sysctl whose key or value
	// cannot be written into a compose file as it is.
	ErrInvalidSysctl = errors.New("invalid sysctl")
	// ErrFileCaps is returned for a security.capability value capprof
	// cannot decode.
	ErrFileCaps = errors.New("invalid file capabilities")
)
