package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/capprof/capprof/profiler"
)

// Exit codes, documented in the README.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitUnproven = 3
	// exitInterrupted is the shell's code for a command ended by SIGINT.
	exitInterrupted = 130
)

// usageError marks errors in what the user asked for (flags, compose files).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func exitCode(err error) int {
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage), errors.Is(err, profiler.ErrUnknownService), errors.Is(err, profiler.ErrOutput):
		return exitUsage
	case isCLIExit(err):
		// urfave/cli's own errors, such as an unknown command.
		return exitUsage
	case errors.Is(err, profiler.ErrVerificationFailed):
		return exitUnproven
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	default:
		return exitFailure
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "capprof",
		Usage: "replace privileged: true in a compose service with measured least privilege",
		Description: `capprof runs a compose service in an isolated trace run, records with eBPF the
capabilities, devices and syscalls it really uses while a workload runs, writes a
least-privilege compose.override.yml and seccomp profile, and proves them by replay.

Exit codes: 0 done and verified, 1 failure, 2 usage or compose-file error,
3 the replay under the generated override did not pass, 130 interrupted.
capprof audit: 0 no finding at or above --fail-on, 1 findings, 2 usage or compose-file error.`,
		HideHelpCommand: true,
		// A workload command is one flag value even when it holds commas
		// (grep -c "UDP, length 8"): repeat the flag for several commands.
		DisableSliceFlagSeparator: true,
		Commands:                  []*cli.Command{profileCommand, minimizeCommand, auditCommand},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		// main decides the exit code; urfave/cli must not exit by itself.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// isCLIExit reports whether err is urfave/cli's own exit error. Only the
// error itself counts, not what it wraps: a failed docker compose command
// wraps an *exec.ExitError, which has an ExitCode method too.
func isCLIExit(err error) bool {
	_, ok := err.(cli.ExitCoder)
	return ok
}
