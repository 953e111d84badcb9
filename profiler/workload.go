package profiler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/mattn/go-shellwords"

	"github.com/capprof/capprof/profiles"
)

// Workload is what runs against the service while it is traced, and again
// when the override is replayed.
type Workload struct {
	// Exec commands run inside the service's container, one after the other.
	Exec []string
	// Run commands run on the host (e.g. curl against a published port).
	Run []string
	// Duration is how long to observe after the commands (or alone).
	Duration time.Duration
	// Timeout bounds every command: under too little privilege services
	// often hang rather than fail.
	Timeout time.Duration
	// StartupGrace is how long the first command is retried while it fails,
	// so that a service that is still starting is not taken for a failure.
	StartupGrace time.Duration
}

// empty reports whether the workload only observes the service.
func (w Workload) empty() bool { return len(w.Exec) == 0 && len(w.Run) == 0 && w.Duration == 0 }

type workloadStep struct {
	where   string // "health", "exec" or "run"
	command string
	// argv, when set, is exec'd as it is (a healthcheck's CMD form).
	argv []string
}

// healthStep turns a container's healthcheck test (Docker's form: ["CMD",
// args…], ["CMD-SHELL", command] or ["NONE"]) into a workload step: the
// healthcheck runs through the same runtime path as docker exec under the
// same profile, and Docker may not run it during a short workload, so
// capprof runs it itself.
func healthStep(test []string) (workloadStep, bool) {
	if len(test) < 2 {
		return workloadStep{}, false
	}
	switch test[0] {
	case "CMD":
		return workloadStep{where: "health", command: strings.Join(test[1:], " "), argv: test[1:]}, true
	case "CMD-SHELL":
		return workloadStep{where: "health", command: test[1], argv: []string{"/bin/sh", "-c", test[1]}}, true
	}
	return workloadStep{}, false
}

func (w Workload) steps(health []string) []workloadStep {
	var steps []workloadStep
	if h, ok := healthStep(health); ok {
		steps = append(steps, h)
	}
	for _, c := range w.Exec {
		steps = append(steps, workloadStep{where: "exec", command: c})
	}
	for _, c := range w.Run {
		steps = append(steps, workloadStep{where: "run", command: c})
	}
	return steps
}

// workloadRunner runs workload commands against one container.
type workloadRunner struct {
	docker      *client.Client
	containerID string
	env         []string
	progress    io.Writer
	hasShell    *bool
	// health is the container's healthcheck test, run as the first step.
	health []string
}

// runAll runs every step in order and stops at the first failure, which it
// returns as ErrWorkloadFailed with the command and its output's tail.
func (r *workloadRunner) runAll(ctx context.Context, w Workload) ([]profiles.CommandResult, error) {
	var results []profiles.CommandResult
	steps := w.steps(r.health)
	for i, step := range steps {
		fmt.Fprintf(r.progress, "capprof:   workload %d/%d (%s): %s\n", i+1, len(steps), step.where, step.command)
		deadline := time.Now()
		if i == 0 {
			deadline = deadline.Add(w.StartupGrace)
		}
		var res profiles.CommandResult
		for {
			res = r.runStep(ctx, step, w.Timeout)
			if res.ExitCode == 0 || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			if exited, code := r.exited(ctx); exited {
				results = append(results, res)
				return results, fmt.Errorf("%w: the service's container exited with code %d before %s command %q could pass", ErrWorkloadFailed, code, step.where, step.command)
			}
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
		results = append(results, res)
		if res.ExitCode != 0 {
			return results, fmt.Errorf("%w: %s", ErrWorkloadFailed, commandFailure(step, res, w.Timeout))
		}
		res.Output = ""
		results[len(results)-1] = res
	}
	if w.Duration > 0 {
		fmt.Fprintf(r.progress, "capprof:   observing for %s\n", w.Duration)
		select {
		case <-ctx.Done():
			return results, ctx.Err()
		case <-time.After(w.Duration):
		}
	}
	return results, nil
}

// commandFailure says how a workload command failed, with its output when
// it printed any.
func commandFailure(step workloadStep, res profiles.CommandResult, timeout time.Duration) string {
	how := fmt.Sprintf("exited %d", res.ExitCode)
	if res.TimedOut {
		how = fmt.Sprintf("timed out after %s", timeout)
	}
	return withDetail(fmt.Sprintf("%s command %q %s", step.where, step.command, how), res.Output)
}

// withDetail appends detail (a command's output, a service's logs) to a
// one-line summary after a colon, or returns the summary alone when there
// is no detail: a colon then would introduce nothing.
func withDetail(summary, detail string) string {
	detail = strings.TrimRight(detail, "\n")
	if strings.TrimSpace(detail) == "" {
		return summary
	}
	return summary + ":\n" + detail
}

// exited reports whether the service's container has stopped, and its exit
// code: retrying a command then cannot help.
func (r *workloadRunner) exited(ctx context.Context) (bool, int) {
	inspect, err := r.docker.ContainerInspect(ctx, r.containerID)
	if err != nil || inspect.State == nil {
		return false, 0
	}
	// A container in a restart loop counts as exited: retrying against it
	// cannot help either.
	return !inspect.State.Running || inspect.State.Restarting, inspect.State.ExitCode
}

// runStep runs one command under its timeout. A timeout is exit code 124, as
// with timeout(1), and marked TimedOut; a command that could not start is 127.
func (r *workloadRunner) runStep(ctx context.Context, step workloadStep, timeout time.Duration) profiles.CommandResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := profiles.CommandResult{Where: step.where, Command: step.command}
	var out []byte
	var err error
	switch {
	case step.argv != nil:
		res.ExitCode, out, err = r.execArgv(ctx, step.argv)
	case step.where == "exec":
		res.ExitCode, out, err = r.exec(ctx, step.command)
	default:
		res.ExitCode, out, err = r.host(ctx, step.command)
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		res.ExitCode, res.TimedOut = 124, true
	case err != nil:
		res.ExitCode = 127
		out = append(out, fmt.Sprintf("\n(capprof: %v)", err)...)
	}
	res.Output = tail(string(out), 20)
	return res
}

// exec runs a command in the container: through /bin/sh -c when the image has
// a shell, otherwise split into arguments the way a shell would.
func (r *workloadRunner) exec(ctx context.Context, command string) (int, []byte, error) {
	argv, err := r.argv(ctx, command)
	if err != nil {
		return 0, nil, err
	}
	return r.execArgv(ctx, argv)
}

// execArgv runs argv in the container and returns its exit code and output.
func (r *workloadRunner) execArgv(ctx context.Context, argv []string) (int, []byte, error) {
	created, err := r.docker.ContainerExecCreate(ctx, r.containerID, container.ExecOptions{
		Cmd: argv, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return 0, nil, fmt.Errorf("create exec: %w", err)
	}
	attached, err := r.docker.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return 0, nil, fmt.Errorf("attach exec: %w", err)
	}
	defer attached.Close()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&out, &out, attached.Reader)
		done <- err
	}()
	select {
	case <-ctx.Done():
		return 0, out.Bytes(), ctx.Err()
	case <-done:
	}
	inspect, err := r.docker.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return 0, out.Bytes(), fmt.Errorf("inspect exec: %w", err)
	}
	return inspect.ExitCode, out.Bytes(), nil
}

func (r *workloadRunner) argv(ctx context.Context, command string) ([]string, error) {
	if r.hasShell == nil {
		_, err := r.docker.ContainerStatPath(ctx, r.containerID, "/bin/sh")
		has := err == nil
		r.hasShell = &has
	}
	if *r.hasShell {
		return []string{"/bin/sh", "-c", command}, nil
	}
	parser := shellwords.NewParser()
	argv, err := parser.Parse(command)
	if err != nil {
		return nil, fmt.Errorf("split %q into arguments (the image has no shell): %w", command, err)
	}
	if parser.Position >= 0 {
		return nil, fmt.Errorf("%q uses shell syntax (&&, ||, |, ;) at byte %d, but the image has no shell: give each command its own --exec", command, parser.Position)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("empty exec command")
	}
	return argv, nil
}

// host runs a command on the host through sh -c, with the container and
// project in its environment.
func (r *workloadRunner) host(ctx context.Context, command string) (int, []byte, error) {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = append(os.Environ(), r.env...)
	// Its own process group, killed whole on timeout: a shell's children
	// must not outlive the command.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if exitErr.ExitCode() < 0 {
			return 128 + 9, out, nil
		}
		return exitErr.ExitCode(), out, nil
	}
	return 0, out, err
}
