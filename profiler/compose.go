package profiler

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// composeRun drives the real `docker compose` CLI for one isolated project:
// its own project name, the user's files plus capprof's override.
type composeRun struct {
	project    string
	projectDir string
	files      []string
	progress   io.Writer
}

func (c *composeRun) command(ctx context.Context, args ...string) *exec.Cmd {
	// Every profile is on, as when capprof loaded the project: the service or
	// what it depends on may sit behind one, and `down` must see them all.
	full := []string{"compose", "--project-name", c.project, "--project-directory", c.projectDir, "--profile", "*"}
	for _, f := range c.files {
		full = append(full, "--file", f)
	}
	full = append(full, args...)
	return exec.CommandContext(ctx, "docker", full...)
}

// run runs one compose command and returns its combined output; on failure the
// error carries the output's tail.
func (c *composeRun) run(ctx context.Context, args ...string) ([]byte, error) {
	return c.runCmd(c.command(ctx, args...), args)
}

// runCmd runs a command made by command; args name it in errors.
func (c *composeRun) runCmd(cmd *exec.Cmd, args []string) ([]byte, error) {
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("docker compose %s: %w\n%s", strings.Join(args, " "), err, tail(out.String(), 20))
	}
	return out.Bytes(), nil
}

// up starts the service and what it depends on, detached.
func (c *composeRun) up(ctx context.Context, service string) error {
	_, err := c.run(ctx, "up", "--detach", "--no-color", "--quiet-pull", service)
	return err
}

// down removes every container, network and volume of the project. It runs
// with its own deadline so that it also cleans up after Ctrl-C, and in its
// own process group, so that a second Ctrl-C at the terminal, which reaches
// capprof's whole group, does not stop the clean-up half way.
func (c *composeRun) down() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"down", "--volumes", "--remove-orphans", "--timeout", "5"}
	cmd := c.command(ctx, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// At the deadline the whole group goes: docker runs compose as a child.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	_, err := c.runCmd(cmd, args)
	return err
}

// logs returns the tail of the service's logs, for error messages.
func (c *composeRun) logs(service string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.run(ctx, "logs", "--no-color", "--tail", "20", service)
	if err != nil {
		return ""
	}
	return string(out)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
