package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/capprof/capprof/profiler"
)

var profileCommand = &cli.Command{
	Name:      "profile",
	Usage:     "trace a service and write its least-privilege override, seccomp profile and report",
	ArgsUsage: " ",
	Description: `Starts the service (and what it depends on) under its own compose project name with
the privilege it asks for, runs the workload, records what it used, writes DIR/compose.override.yml,
DIR/seccomp/SERVICE.json and DIR/report.json, then replays the workload under the override.
With --arch arm64 on an amd64 host (or the reverse) it also writes DIR/seccomp/SERVICE.arm64.json,
the seccomp profile translated to that architecture's system call names; no replay checks it.

Example:
   capprof profile -f examples/tun/compose.yml --service tun \
       --exec 'ip -o addr show dev tun0 | grep -q 192.0.2.1' --out examples/tun/capprof
   docker compose -f examples/tun/compose.yml -f examples/tun/capprof/compose.override.yml up -d`,
	Flags: []cli.Flag{
		&cli.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "compose `FILE` (repeat to merge several, as with docker compose)", EnvVars: []string{"CAPPROF_FILE"}},
		&cli.StringFlag{Name: "service", Aliases: []string{"s"}, Usage: "the `NAME` of the service to profile", EnvVars: []string{"CAPPROF_SERVICE"}},
		&cli.StringSliceFlag{Name: "exec", Usage: "workload `CMD` run inside the service's container (sh -c when the image has a shell); repeatable, must exit 0", EnvVars: []string{"CAPPROF_EXEC"}},
		&cli.StringSliceFlag{Name: "run", Usage: "workload `CMD` run on the host with sh -c (e.g. curl against a published port); repeatable, must exit 0", EnvVars: []string{"CAPPROF_RUN"}},
		&cli.DurationFlag{Name: "duration", Usage: "observe for this long after the commands (alone: observe only)", EnvVars: []string{"CAPPROF_DURATION"}},
		&cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "limit for each workload command", EnvVars: []string{"CAPPROF_TIMEOUT"}},
		&cli.DurationFlag{Name: "startup-grace", Value: 15 * time.Second, Usage: "retry the first workload command this long while the service starts", EnvVars: []string{"CAPPROF_STARTUP_GRACE"}},
		&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "output `DIR` for the override, seccomp profile and report", EnvVars: []string{"CAPPROF_OUT"}},
		&cli.BoolFlag{Name: "minimize", Usage: "replay without each grant, by group testing, and drop those the workload passes without", EnvVars: []string{"CAPPROF_MINIMIZE"}},
		&cli.BoolFlag{Name: "no-new-privileges", Usage: "set (=true) or leave out (=false) no-new-privileges in the override; unset, it is set unless a program the workload executed gained privilege by setuid or file capabilities, which it would withhold", EnvVars: []string{"CAPPROF_NO_NEW_PRIVILEGES"}},
		&cli.StringFlag{Name: "arch", Usage: "also write seccomp/SERVICE.`ARCH`.json, the seccomp profile translated to ARCH (amd64 or x86_64, arm64 or aarch64), unverified: the replay runs on the recording's architecture (default: the recording's, no second profile)", EnvVars: []string{"CAPPROF_ARCH"}},
		&cli.BoolFlag{Name: "no-verify", Usage: "skip the replay (the result is then unproven)", EnvVars: []string{"CAPPROF_NO_VERIFY"}},
	},
	OnUsageError: func(_ *cli.Context, err error, _ bool) error {
		return usageError{err}
	},
	Action: func(cliCtx *cli.Context) error {
		if cliCtx.NArg() > 0 {
			return usageError{fmt.Errorf("profile takes no arguments, got %q (use --exec or --run for workload commands)", cliCtx.Args().Slice())}
		}
		if err := requireFlags(cliCtx, "file", "service", "out"); err != nil {
			return err
		}
		if _, err := profiler.ParseArch(cliCtx.String("arch")); err != nil {
			return usageError{err}
		}
		if d := cliCtx.Duration("timeout"); d <= 0 {
			return usageError{fmt.Errorf("--timeout %s: want a duration above 0 (such as 2m)", d)}
		}
		for _, name := range []string{"duration", "startup-grace"} {
			if d := cliCtx.Duration(name); d < 0 {
				return usageError{fmt.Errorf("--%s %s: want 0 or a positive duration (such as 30s)", name, d)}
			}
		}
		res, err := profiler.Profile(cliCtx.Context, profiler.Options{
			ComposeFiles: cliCtx.StringSlice("file"),
			Service:      cliCtx.String("service"),
			Workload: profiler.Workload{
				Exec:         cliCtx.StringSlice("exec"),
				Run:          cliCtx.StringSlice("run"),
				Duration:     cliCtx.Duration("duration"),
				Timeout:      cliCtx.Duration("timeout"),
				StartupGrace: cliCtx.Duration("startup-grace"),
			},
			OutDir:          cliCtx.String("out"),
			Minimize:        cliCtx.Bool("minimize"),
			NoNewPrivileges: optionalBool(cliCtx, "no-new-privileges"),
			SkipVerify:      cliCtx.Bool("no-verify"),
			Arch:            cliCtx.String("arch"),
			Progress:        cliCtx.App.ErrWriter,
		})
		printResult(cliCtx, res)
		if err != nil && isLoadError(err) {
			return usageError{err}
		}
		return err
	},
}

// printResult prints the before/after summary and the files written.
func printResult(cliCtx *cli.Context, res *profiler.Result) {
	writeResult(cliCtx.App.Writer, res)
}

// writeResult writes what printResult prints.
func writeResult(w io.Writer, res *profiler.Result) {
	if res == nil {
		return
	}
	fmt.Fprintln(w)
	for _, line := range res.Summary {
		fmt.Fprintln(w, line)
	}
	if len(res.Policy.Warnings) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "review before committing (the override's head comment and report.json say it too):")
		for _, warning := range res.Policy.Warnings {
			fmt.Fprintf(w, "  - %s\n", warning)
		}
	}
	fmt.Fprintln(w)
	for _, f := range res.Files {
		fmt.Fprintf(w, "wrote %s\n", f)
	}
}

// requireFlags returns a usage error naming the flags that were not set.
// (urfave/cli's own Required check returns an error that cannot be told
// apart from a run-time failure.)
func requireFlags(cliCtx *cli.Context, names ...string) error {
	var missing []string
	for _, n := range names {
		if !cliCtx.IsSet(n) {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return usageError{fmt.Errorf("missing %s (see capprof profile --help)", strings.Join(missing, ", "))}
	}
	return nil
}

// isLoadError tells compose-file problems (exit 2) from run-time failures.
func isLoadError(err error) bool {
	var le *profiler.LoadError
	return errors.As(err, &le)
}

// optionalBool returns the flag's value when it was given (on the command
// line or in its environment variable), nil when not.
func optionalBool(cliCtx *cli.Context, name string) *bool {
	if !cliCtx.IsSet(name) {
		return nil
	}
	v := cliCtx.Bool(name)
	return &v
}
