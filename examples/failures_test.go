package examples

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// projectLine is how capprof announces the compose project of a run.
var projectLine = regexp.MustCompile(`as compose project (capprof-(?:trace|replay)-\S+)`)

// leftovers lists the containers that remain of the compose projects
// capprof's output says it started; other runs' (tests in parallel,
// other users of the engine) are not this run's to judge.
func leftovers(t *testing.T, output string) string {
	t.Helper()
	projects := map[string]bool{}
	for _, m := range projectLine.FindAllStringSubmatch(output, -1) {
		projects[m[1]] = true
	}
	if len(projects) == 0 {
		return ""
	}
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label=com.docker.compose.project",
		"--format", `{{.Label "com.docker.compose.project"}} {{.Names}}`).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	var mine []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if project, _, _ := strings.Cut(line, " "); projects[project] {
			mine = append(mine, line)
		}
	}
	return strings.Join(mine, "; ")
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// A failing or hanging workload means no profile: the error names the
// command and shows its output, and nothing is left running.
func TestProfileFailures(t *testing.T) {
	bin := endToEnd(t, "tun")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{"failing exec", []string{"--service", "tun", "--exec", "echo boom-output >&2; exit 3"}, 1,
			[]string{`exec command "echo boom-output >&2; exit 3" exited 3`, "boom-output"}},
		{"hanging exec", []string{"--service", "tun", "--exec", "sleep 60", "--timeout", "2s"}, 1,
			[]string{`exec command "sleep 60" timed out after 2s`}},
		{"silent failing exec", []string{"--service", "tun", "--exec", "false"}, 1,
			[]string{"exec command \"false\" exited 1\n"}},
		{"failing host command", []string{"--service", "tun", "--run", "echo host-said-no; false"}, 1,
			[]string{`run command "echo host-said-no; false" exited 1`, "host-said-no"}},
		{"unknown service", []string{"--service", "nope"}, 2, []string{`unknown service "nope"`, "services: tun"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"profile", "-f", filepath.Join("tun", "compose.yml"), "--out", out, "--startup-grace", "0s"}, tt.args...)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			output, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
			if got := exitCode(err); got != tt.wantCode {
				t.Errorf("exit code = %d, want %d\n%s", got, tt.wantCode, output)
			}
			for _, w := range tt.want {
				if !bytes.Contains(output, []byte(w)) {
					t.Errorf("output does not say %q:\n%s", w, output)
				}
			}
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("a failed trace run wrote %d files into %s", len(entries), out)
			}
			if left := leftovers(t, string(output)); left != "" {
				t.Errorf("left running: %s", left)
			}
		})
	}
}

// Ctrl-C during the trace run removes everything the run created: sent to
// capprof alone, and twice to its whole process group as a terminal does,
// the second reaching docker compose while capprof cleans up.
func TestProfileInterruptCleansUp(t *testing.T) {
	bin := endToEnd(t, "tun")
	for _, tc := range []struct {
		name  string
		group bool
	}{{"once to capprof", false}, {"twice to the process group", true}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, "profile", "-f", filepath.Join("tun", "compose.yml"), "--service", "tun",
				"--duration", "2m", "--out", t.TempDir())
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			observing := make(chan struct{})
			var (
				mu  sync.Mutex
				log bytes.Buffer
			)
			logText := func() string {
				mu.Lock()
				defer mu.Unlock()
				return log.String()
			}
			go func() {
				sc := bufio.NewScanner(stderr)
				signaled := false
				for sc.Scan() {
					mu.Lock()
					log.WriteString(sc.Text() + "\n")
					mu.Unlock()
					if !signaled && strings.Contains(sc.Text(), "observing for") {
						signaled = true
						close(observing)
					}
				}
			}()
			select {
			case <-observing:
			case <-time.After(2 * time.Minute):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatalf("the trace run never started observing:\n%s", logText())
			}
			if left := leftovers(t, logText()); left == "" {
				t.Fatal("no trace container is running before the interrupt: the test proves nothing")
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			if tc.group {
				if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				time.Sleep(300 * time.Millisecond)
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			} else if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			select {
			case err = <-done:
			case <-time.After(90 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatal("capprof did not stop within 90s of Ctrl-C")
			}
			if got := exitCode(err); got != 130 {
				t.Errorf("an interrupted profile exited %d, want 130:\n%s", got, logText())
			}
			if strings.Contains(logText(), "warning: cleaning up") {
				t.Errorf("the clean-up was interrupted:\n%s", logText())
			}
			if left := leftovers(t, logText()); left != "" {
				t.Errorf("left running after Ctrl-C: %s\n%s", left, logText())
			}
		})
	}
}

// A service that dies at start is reported as such, at once, not as a
// workload command that kept failing for the whole start-up grace.
func TestProfileServiceDiesAtStart(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  dies:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    entrypoint: ["/bin/sh", "-c", "echo giving-up >&2; exit 4"]
`)
	start := time.Now()
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "dies",
		"--exec", "true", "--startup-grace", "60s", "--out", filepath.Join(dir, "out"))
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, output)
	}
	for _, want := range []string{"exited with code 4", "giving-up"} {
		if !strings.Contains(output, want) {
			t.Errorf("output does not say %q:\n%s", want, output)
		}
	}
	if took := time.Since(start); took > 45*time.Second {
		t.Errorf("took %s: capprof retried against a container that had exited", took)
	}
	if left := leftovers(t, output); left != "" {
		t.Errorf("left running: %s", left)
	}
}

// A service whose command exits non-zero during the trace run fails it, and
// the failure shows the service's logs, as a failed replay's does.
func TestProfileServiceFailsInTraceRun(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  fails:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    entrypoint: ["/bin/sh", "-c", "echo boom-marker >&2; exit 3"]
`)
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "fails",
		"--out", filepath.Join(dir, "out"))
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, output)
	}
	for _, want := range []string{"the service exited with code 3 during the trace run", "service logs:", "boom-marker"} {
		if !strings.Contains(output, want) {
			t.Errorf("output does not say %q:\n%s", want, output)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "out")); len(entries) != 0 {
		t.Errorf("a failed trace run wrote %d files", len(entries))
	}
	if left := leftovers(t, output); left != "" {
		t.Errorf("left running: %s", left)
	}
}

// A service behind a compose profile, depending on another one behind a
// profile, is profiled and fully removed afterwards.
func TestProfileServiceBehindProfiles(t *testing.T) {
	bin := endToEnd(t, "tun", "nothing")
	dir := writeProject(t, `
services:
  vpn:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    profiles: [vpn]
    depends_on: [helper]
  helper:
    image: capprof-example/nothing:latest
    pull_policy: never
    profiles: [extra]
`)
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "vpn",
		"--exec", "ip -o addr show dev tun0 | grep -q 192.0.2.1", "--out", filepath.Join(dir, "out"))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, output)
	}
	out, err := exec.Command("docker", "ps", "-a", "--filter", "label=com.docker.compose.project", "--format", "{{.Names}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(string(out)) {
		if strings.HasPrefix(name, "capprof-trace-vpn-") || strings.HasPrefix(name, "capprof-replay-vpn-") {
			t.Errorf("left behind: %s", name)
		}
	}
}
