package profiler

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/capprof/capprof/profiles"
)

// Without a shell in the image, a command line with shell syntax cannot be
// split into one command: refusing it beats running only its first part.
func TestArgvWithoutShell(t *testing.T) {
	noShell := false
	r := &workloadRunner{hasShell: &noShell}
	argv, err := r.argv(context.Background(), `/server -probe "http://127.0.0.1:8080/"`)
	if err != nil || strings.Join(argv, "|") != "/server|-probe|http://127.0.0.1:8080/" {
		t.Errorf("argv = %q, %v", argv, err)
	}
	for _, cmd := range []string{"/a && /b", "/a | /b", "/a; /b", "/a || /b"} {
		if _, err := r.argv(context.Background(), cmd); err == nil || !strings.Contains(err.Error(), "shell syntax") {
			t.Errorf("argv(%q) error = %v, want a refusal naming shell syntax", cmd, err)
		}
	}
	hasShell := true
	r = &workloadRunner{hasShell: &hasShell}
	if argv, _ := r.argv(context.Background(), "/a && /b"); strings.Join(argv, "|") != "/bin/sh|-c|/a && /b" {
		t.Errorf("with a shell argv = %q", argv)
	}
}

// A host command that times out is killed with everything it started.
func TestHostCommandTimeoutKillsItsChildren(t *testing.T) {
	r := &workloadRunner{}
	marker := "31.4159"
	res := r.runStep(context.Background(), workloadStep{where: "run", command: "sleep " + marker + "; true"}, 500*time.Millisecond)
	if res.ExitCode != 124 || !res.TimedOut {
		t.Errorf("exit code = %d, timed out = %v, want 124 and timed out", res.ExitCode, res.TimedOut)
	}
	if got := commandFailure(workloadStep{where: "run", command: "sleep"}, res, 500*time.Millisecond); got != `run command "sleep" timed out after 500ms` {
		t.Errorf("the failure says %q", got)
	}
	time.Sleep(200 * time.Millisecond)
	if out, err := exec.Command("pgrep", "-f", "sleep "+marker).Output(); err == nil {
		t.Errorf("the command's child outlived it: pid %s", out)
	}
}

// A failed command's line ends in a colon only when its output follows, and
// a timeout is said as one, not as timeout(1)'s exit code 124.
func TestCommandFailure(t *testing.T) {
	step := workloadStep{where: "exec", command: "false"}
	tests := []struct {
		name string
		res  profiles.CommandResult
		want string
	}{
		{"no output", profiles.CommandResult{ExitCode: 1}, `exec command "false" exited 1`},
		{"blank output", profiles.CommandResult{ExitCode: 1, Output: "\n \n"}, `exec command "false" exited 1`},
		{"output", profiles.CommandResult{ExitCode: 3, Output: "boom\n"}, "exec command \"false\" exited 3:\nboom"},
		{"timed out", profiles.CommandResult{ExitCode: 124, TimedOut: true}, `exec command "false" timed out after 20s`},
		{"timed out with output", profiles.CommandResult{ExitCode: 124, TimedOut: true, Output: "waiting"}, "exec command \"false\" timed out after 20s:\nwaiting"},
		{"exit 124 of its own", profiles.CommandResult{ExitCode: 124}, `exec command "false" exited 124`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := commandFailure(step, tt.res, 20*time.Second); got != tt.want {
				t.Errorf("commandFailure = %q, want %q", got, tt.want)
			}
		})
	}
}

// A trial's why is the failure's first line, without the colon that
// introduced the output the report leaves out.
func TestFirstLine(t *testing.T) {
	for in, want := range map[string]string{
		"workload failed: exec command \"x\" exited 1:\nboom":              `workload failed: exec command "x" exited 1`,
		"workload failed: exec command \"x\" exited 1":                     `workload failed: exec command "x" exited 1`,
		"capability checks denied: CAP_CHOWN (1 denied check by sh)\nmore": "capability checks denied: CAP_CHOWN (1 denied check by sh)",
	} {
		if got := firstLine(in); got != want {
			t.Errorf("firstLine(%q) = %q, want %q", in, got, want)
		}
	}
}
