package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/capprof/capprof/profiler"
	"github.com/capprof/capprof/profiles"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"ok", nil, exitOK},
		{"usage", usageError{errors.New("bad flag")}, exitUsage},
		{"unknown service", fmt.Errorf("x: %w", profiler.ErrUnknownService), exitUsage},
		{"compose file", usageError{&profiler.LoadError{Err: errors.New("yaml")}}, exitUsage},
		{"verification", fmt.Errorf("x: %w", profiler.ErrVerificationFailed), exitUnproven},
		{"workload", fmt.Errorf("x: %w", profiler.ErrWorkloadFailed), exitFailure},
		{"interrupted", fmt.Errorf("x: %w", context.Canceled), exitInterrupted},
		{"output directory", fmt.Errorf("x: %w", profiler.ErrOutput), exitUsage},
		{"other", errors.New("docker gone"), exitFailure},
		{"docker compose failed", fmt.Errorf("start service: %w", &exec.ExitError{}), exitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// Mistakes in what the user typed exit 2 with a one-line reason, before
// anything needs root or Docker.
func TestProfileUsageErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "compose.yml")
	if err := os.WriteFile(good, []byte("services:\n  web:\n    image: x\n    privileged: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("services: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no flags", nil, "missing --file, --service, --out"},
		{"stray argument", []string{"-f", good, "--service", "web", "--out", dir, "extra"}, "takes no arguments"},
		{"unknown flag", []string{"--nope"}, "nope"},
		{"invalid yaml", []string{"-f", bad, "--service", "web", "--out", dir}, "bad.yml"},
		{"missing file", []string{"-f", filepath.Join(dir, "missing.yml"), "--service", "web", "--out", dir}, "missing.yml"},
		{"unknown service", []string{"-f", good, "--service", "db", "--out", dir}, `unknown service "db"`},
		{"bad duration", []string{"-f", good, "--service", "web", "--out", dir, "--timeout", "banana"}, "banana"},
		{"negative duration", []string{"-f", good, "--service", "web", "--out", dir, "--duration", "-3s"}, "--duration -3s"},
		{"zero timeout", []string{"-f", good, "--service", "web", "--out", dir, "--timeout", "0s"}, "--timeout 0s"},
		{"negative startup grace", []string{"-f", good, "--service", "web", "--out", dir, "--startup-grace", "-1s"}, "--startup-grace -1s"},
		{"empty out", []string{"-f", good, "--service", "web", "--out", ""}, "pass --out"},
		{"out is a file", []string{"-f", good, "--service", "web", "--out", good}, "cannot create"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApp()
			var out bytes.Buffer
			app.Writer, app.ErrWriter = &out, &out
			err := app.RunContext(context.Background(), append([]string{"capprof", "profile"}, tt.args...))
			if got := exitCode(err); got != exitUsage {
				t.Errorf("exit code = %d (err %v), want %d", got, err, exitUsage)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestUnknownCommandIsUsage(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &out
	err := app.RunContext(context.Background(), []string{"capprof", "bogus"})
	if got := exitCode(err); got != exitUsage {
		t.Errorf("capprof bogus: exit code %d (err %v), want %d", got, err, exitUsage)
	}
}

// A comma inside a workload command must not split it in two.
func TestExecKeepsCommas(t *testing.T) {
	app := newApp()
	var got []string
	action := profileCommand.Action
	defer func() { profileCommand.Action = action }()
	profileCommand.Action = func(cliCtx *cli.Context) error {
		got = cliCtx.StringSlice("exec")
		return nil
	}
	err := app.RunContext(context.Background(), []string{"capprof", "profile", "-f", "x.yml", "--service", "s", "--out", "o",
		"--exec", `grep -c "UDP, length 8" /tmp/log`, "--exec", "true"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != `grep -c "UDP, length 8" /tmp/log` {
		t.Errorf("exec = %q, want the two commands whole", got)
	}
}

// compose-go's logrus warnings read as capprof's own.
func TestLibraryWarnings(t *testing.T) {
	var buf bytes.Buffer
	routeLibraryWarnings(&buf)
	t.Cleanup(func() { routeLibraryWarnings(os.Stderr) })
	logrus.Warnf("%q for boolean is not supported by YAML 1.2, please use `true`", "yes")
	logrus.Info("not shown")
	if got, want := buf.String(), "capprof: warning: \"yes\" for boolean is not supported by YAML 1.2, please use `true`\n"; got != want {
		t.Errorf("logged %q, want %q", got, want)
	}
}

// The warnings a reviewer must decide on are printed after the summary.
func TestWriteResultPrintsWarnings(t *testing.T) {
	var buf bytes.Buffer
	res := &profiler.Result{
		Summary: []string{"capabilities   all   1: NET_ADMIN"},
		Policy:  profiles.Policy{Warnings: []string{"io_uring (io_uring_setup) is allowed"}},
		Files:   []string{"out/compose.override.yml"},
	}
	writeResult(&buf, res)
	out := buf.String()
	for _, want := range []string{"capabilities   all   1: NET_ADMIN\n", "review before committing", "  - io_uring (io_uring_setup) is allowed\n", "wrote out/compose.override.yml\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	res.Policy.Warnings = nil
	writeResult(&buf, res)
	if strings.Contains(buf.String(), "review before committing") {
		t.Errorf("no warnings, and still a review heading:\n%s", buf.String())
	}
}
