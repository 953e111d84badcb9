package profiler

import "errors"

var (
	// ErrUnknownService is returned when the service is not in the project.
	ErrUnknownService = errors.New("unknown service")
	// ErrWorkloadFailed is returned when a workload command did not exit 0
	// during the trace run: no profile is written from a failing workload.
	ErrWorkloadFailed = errors.New("workload failed")
	// ErrVerificationFailed is returned when the replay under the generated
	// override did not pass.
	ErrVerificationFailed = errors.New("verification failed")
	// ErrOutput is returned when the output directory cannot be used: not a
	// directory, not writable, or holding the user's own files.
	ErrOutput = errors.New("output directory")
	// ErrNoContainer is returned when the service produced no container.
	ErrNoContainer = errors.New("no container for service")
)
