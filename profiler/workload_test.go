package profiler

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
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
	if res.ExitCode != 124 {
		t.Errorf("exit code = %d, want 124 (timed out)", res.ExitCode)
	}
	time.Sleep(200 * time.Millisecond)
	if out, err := exec.Command("pgrep", "-f", "sleep "+marker).Output(); err == nil {
		t.Errorf("the command's child outlived it: pid %s", out)
	}
}
