package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/capprof/capprof/audit"
)

// defaultFailOn is the threshold without --fail-on: any finding fails, as
// with a linter. Accepting a risk in x-capprof, with its reason, is how a
// finding stops failing; --fail-on medium gates on isolation only.
const defaultFailOn = "low"

var auditCommand = &cli.Command{
	Name:      "audit",
	Usage:     "check compose files for privileged mode and settings as dangerous, without running anything",
	ArgsUsage: " ",
	Description: `Loads the project as docker compose does (every -f file, or compose.yaml and its
compose.override.yml found from the project directory up, COMPOSE_FILE honoured; extends,
include, every profile, interpolation with .env) and checks each merged service: privileged
mode, capabilities, security options, host namespaces, mounts, devices, hardening. Each
finding names the file and line that made the setting. A security setting holding a
variable that is not set is indeterminate: it counts as a finding at its rule's severity.
A service accepts a risk with x-capprof: {accept: {RULE_ID: "reason"}}; accepted findings
are listed as suppressed and never fail the audit. Needs no root and no Docker.

Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it,
2 usage error or a compose file that cannot be loaded (nothing was audited).

Example:
   capprof audit -f compose.yml -f compose.prod.yml --fail-on medium
   capprof audit --format sarif --output capprof.sarif`,
	Flags: []cli.Flag{
		&cli.StringSliceFlag{Name: "file", Aliases: []string{"f"}, Usage: "compose `FILE` (repeat to merge several, as with docker compose; default: COMPOSE_FILE, else compose.yaml and compose.override.yml)", EnvVars: []string{"CAPPROF_FILE"}},
		&cli.StringFlag{Name: "project-directory", Usage: "`DIR` is the project directory, as with docker compose: the compose files are looked for there without -f, and relative paths in them start from it (default: the first -f file's directory, else the current one)", EnvVars: []string{"CAPPROF_PROJECT_DIRECTORY"}},
		&cli.StringFlag{Name: "format", Value: string(audit.FormatText), Usage: "report `FORMAT`: text, json or sarif", EnvVars: []string{"CAPPROF_FORMAT"}},
		&cli.StringFlag{Name: "fail-on", Value: defaultFailOn, Usage: "exit 1 when a finding is at or above `SEVERITY`: high, medium, low, or none to never fail", EnvVars: []string{"CAPPROF_FAIL_ON"}},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the report to `FILE` instead of standard output (the exit code is the same)", EnvVars: []string{"CAPPROF_OUTPUT"}},
		&cli.BoolFlag{Name: "list-rules", Usage: "list the rules (id, severity, title) in --format and exit", EnvVars: []string{"CAPPROF_LIST_RULES"}},
	},
	OnUsageError: func(_ *cli.Context, err error, _ bool) error {
		return usageError{err}
	},
	Action: func(cliCtx *cli.Context) error {
		if cliCtx.NArg() > 0 {
			return usageError{fmt.Errorf("audit takes no arguments, got %q (pass compose files with -f)", cliCtx.Args().Slice())}
		}
		format, err := audit.ParseFormat(cliCtx.String("format"))
		if err != nil {
			return usageError{fmt.Errorf("--format: %w", err)}
		}
		threshold, err := audit.ParseSeverity(cliCtx.String("fail-on"))
		if err != nil {
			return usageError{fmt.Errorf("--fail-on: %w", err)}
		}
		if cliCtx.Bool("list-rules") {
			var buf bytes.Buffer
			if err := audit.WriteRules(&buf, audit.Rules(), format); err != nil {
				return err
			}
			return writeReport(cliCtx, buf.Bytes(), nil)
		}
		cwd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		// -f paths are relative to where capprof runs, as with docker
		// compose, not to --project-directory.
		files := slices.Clone(cliCtx.StringSlice("file"))
		for i, f := range files {
			if f == "" {
				return usageError{errors.New("-f: pass a compose file's path (an empty one was given)")}
			}
			if f != "-" && !filepath.IsAbs(f) {
				files[i] = filepath.Join(cwd, f)
			}
		}
		dir := cliCtx.String("project-directory")
		if dir != "" && !filepath.IsAbs(dir) {
			dir = filepath.Join(cwd, dir)
		}
		report, err := audit.Audit(cliCtx.Context, audit.Options{Files: files, WorkingDir: cwd, ProjectDirectory: dir})
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			// Audit fails only when it could not load the project: that
			// is exit 2, never 1, which means findings.
			return usageError{err}
		}
		opts := audit.FormatOptions{BaseDir: cwd, ToolVersion: version()}
		var buf bytes.Buffer
		if err := audit.Write(&buf, report, format, opts); err != nil {
			return err
		}
		if err := writeReport(cliCtx, buf.Bytes(), report); err != nil {
			return err
		}
		if cliCtx.IsSet("output") {
			fmt.Fprintf(cliCtx.App.ErrWriter, "wrote %s: %s\n", cliCtx.String("output"), audit.Summary(report, opts))
		}
		if failing := report.Failing(threshold); len(failing) > 0 {
			return findingsError{count: len(failing), threshold: threshold}
		}
		return nil
	},
}

// findingsError is the audit's one failure: findings at or above
// --fail-on (exit 1).
type findingsError struct {
	count     int
	threshold audit.Severity
}

func (e findingsError) Error() string {
	noun := "findings"
	if e.count == 1 {
		noun = "finding"
	}
	return fmt.Sprintf("%d %s at or above --fail-on %s", e.count, noun, e.threshold)
}

// writeReport writes to standard output, or to --output. A report cannot
// replace a compose file it was made from. Failing to write is exit 2: the
// audit's result is unknown, which must not read as findings.
func writeReport(cliCtx *cli.Context, data []byte, report *audit.Report) error {
	if !cliCtx.IsSet("output") {
		if _, err := cliCtx.App.Writer.Write(data); err != nil {
			return usageError{fmt.Errorf("write report: %w", err)}
		}
		return nil
	}
	out := cliCtx.String("output")
	if out == "" {
		return usageError{errors.New("--output: pass a file name")}
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return usageError{fmt.Errorf("--output: %w", err)}
	}
	if report != nil {
		for _, f := range report.Files {
			if !filepath.IsAbs(f) {
				f = filepath.Join(report.WorkingDir, f)
			}
			if sameFile(f, abs) {
				return usageError{fmt.Errorf("--output %s is a compose file the audit read: pick another file name", out)}
			}
		}
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return usageError{fmt.Errorf("--output: %w", err)}
	}
	return nil
}

// sameFile reports whether two paths name one file, through symbolic and
// hard links; a path that does not exist names no file the audit read.
func sameFile(a, b string) bool {
	if a == b {
		return true
	}
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// version is capprof's module version when it was built from a tagged
// module (go install …@v1.2.0), "dev" when built from a checkout.
func version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
