package profiler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/capprof/capprof/profiles"
	"github.com/capprof/capprof/tracer"
)

// observeLimit is how long a run without any workload watches the service.
const observeLimit = 30 * time.Second

// containerIdentity is what identifies one container's processes in a
// tracer snapshot: its mount namespace while it ran, and its hostname, which
// the tracer stores per mount namespace so that exited containers are found too.
type containerIdentity struct {
	ID       string
	Hostname string
	MntNS    nsKey
	ImageID  string
}

// runOutcome is one run (trace or replay) of the service with its workload.
type runOutcome struct {
	project    string
	containers []containerIdentity
	commands   []profiles.CommandResult
	// workloadErr is set when a workload command failed or the service did not start.
	workloadErr error
	// stoppedEarly is set when the service's container was no longer running
	// after the workload although it was expected to keep running.
	stoppedEarly string
	// runningAtEnd says whether the container was still running after the
	// workload; exitCode is its exit code when it was not.
	runningAtEnd bool
	exitCode     int
	// sysctls are the namespaced sysctls the service changed, read at the
	// end of a trace run's workload while the container still ran.
	sysctls []profiles.SysctlChange
	// execFiles are the files of the programs a trace run executed, by
	// path, read before the containers are removed.
	execFiles map[string]execFile
}

// mntns returns the mount namespaces of the run's containers found in snap:
// those of running containers by their pid, and every namespace whose first
// process was in a container's cgroup, which Docker names after the
// container id (so exited containers are found too). Only where the tracer
// could not read a cgroup name (no unified hierarchy) does the hostname
// decide, which other containers and host-network services may share.
func (o *runOutcome) mntns(snap *tracer.Snapshot) map[nsKey]bool {
	set := map[nsKey]bool{}
	hosts := map[string]bool{}
	for _, c := range o.containers {
		if c.MntNS != (nsKey{}) {
			set[c.MntNS] = true
		}
		if c.Hostname != "" {
			hosts[c.Hostname] = true
		}
	}
	for _, ns := range snap.Namespaces {
		if ns.MntNS == snap.HostMntNS {
			continue
		}
		mine := false
		if ns.Cgroup != "" {
			for _, c := range o.containers {
				if len(c.ID) == 64 && strings.Contains(ns.Cgroup, c.ID) {
					mine = true
				}
			}
		} else {
			mine = hosts[ns.Nodename]
		}
		if mine {
			set[nsKey{ns.MntNS, ns.MntNSID}] = true
		}
	}
	return set
}

var unsafeName = regexp.MustCompile(`[^a-z0-9_-]+`)

// projectName makes an isolated compose project name for one run.
func projectName(kind, service string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("capprof-%s-%s-%s", kind, unsafeName.ReplaceAllString(strings.ToLower(service), "-"), hex.EncodeToString(b))
}

// runService starts the service in its own compose project, runs the
// workload, notes the containers' identities and removes everything again.
// Only an infrastructure error is returned as error; a failing service or
// workload is in the outcome. A replay passes the trace run's outcome as
// expect: the service must then end the way it did there (still running, or
// exited 0).
func (p *profiler) runService(ctx context.Context, kind string, files []string, expect *runOutcome) (*runOutcome, error) {
	cr := &composeRun{project: projectName(kind, p.service), projectDir: p.project.WorkingDir, files: files, progress: p.progress}
	out := &runOutcome{project: cr.project}
	fmt.Fprintf(p.progress, "capprof: %s run: starting %q as compose project %s\n", kind, p.service, cr.project)
	defer func() {
		if err := cr.down(); err != nil {
			fmt.Fprintf(p.progress, "capprof: warning: cleaning up %s: %v\n", cr.project, err)
		}
	}()
	if err := cr.up(ctx, p.service); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out.workloadErr = fmt.Errorf("start service %q: %w", p.service, err)
		p.identify(ctx, cr.project, out)
		return out, nil
	}
	if err := p.identify(ctx, cr.project, out); err != nil {
		return nil, err
	}
	if len(out.containers) == 0 {
		return nil, fmt.Errorf("%w %q in project %s", ErrNoContainer, p.service, cr.project)
	}
	main := out.containers[0].ID
	runner := &workloadRunner{docker: p.docker, containerID: main, progress: p.progress,
		env: []string{"CAPPROF_CONTAINER=" + main, "CAPPROF_PROJECT=" + cr.project, "CAPPROF_SERVICE=" + p.service}}
	if inspect, err := p.docker.ContainerInspect(ctx, main); err == nil && inspect.Config != nil && inspect.Config.Healthcheck != nil {
		runner.health = inspect.Config.Healthcheck.Test
	}
	if p.workload.empty() && runner.health == nil {
		fmt.Fprintf(p.progress, "capprof:   no workload given: observing until the service exits or %s pass\n", observeLimit)
		if err := p.waitExit(ctx, main, observeLimit); err != nil {
			return nil, err
		}
	} else {
		out.commands, out.workloadErr = runner.runAll(ctx, p.workload)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if inspect, err := p.docker.ContainerInspect(ctx, main); err == nil {
		out.runningAtEnd = inspect.State.Running
		out.exitCode = inspect.State.ExitCode
		if kind == "trace" && inspect.State.Running && inspect.State.Pid > 0 {
			ownNet, ownIPC := sysctlScopes(p.svc.NetworkMode, p.svc.Ipc)
			changes, err := serviceSysctls(inspect.State.Pid, mergeSysctls(p.svc.Sysctls, traceSysctls(p.svc.Sysctls, ownNet)))
			if err != nil {
				fmt.Fprintf(p.progress, "capprof: warning: reading the service's sysctls: %v\n", err)
			}
			changes = inScope(changes, ownNet, ownIPC)
			out.sysctls = changes
			for _, c := range changes {
				fmt.Fprintf(p.progress, "capprof:   sysctl %s = %s (a fresh container has %s)\n", c.Key, c.Value, c.Baseline)
			}
		}
		if kind == "trace" {
			if err := p.traceExecFiles(ctx, out, main); err != nil {
				return nil, err
			}
		}
		// A trace run whose service exited non-zero fails here, while its
		// logs can still be read.
		if kind == "trace" && out.workloadErr == nil && !out.runningAtEnd && out.exitCode != 0 {
			out.workloadErr = fmt.Errorf("%w: the service exited with code %d during the trace run", ErrWorkloadFailed, out.exitCode)
		}
		if expect != nil && out.workloadErr == nil {
			switch {
			case expect.runningAtEnd && !out.runningAtEnd:
				out.stoppedEarly = withDetail(fmt.Sprintf("the container stopped during the workload (exit code %d); it kept running in the trace run", out.exitCode), cr.logs(p.service))
			case !expect.runningAtEnd && expect.exitCode == 0 && !out.runningAtEnd && out.exitCode != 0:
				out.stoppedEarly = withDetail(fmt.Sprintf("the service's command exited %d; it exited 0 in the trace run", out.exitCode), cr.logs(p.service))
			}
		}
	}
	if out.workloadErr != nil {
		if logs := strings.TrimRight(cr.logs(p.service), "\n"); strings.TrimSpace(logs) != "" {
			out.workloadErr = fmt.Errorf("%w\nservice logs:\n%s", out.workloadErr, logs)
		}
	}
	// Later processes of the same containers (exec'd commands) share their
	// mount namespaces; refresh identities in case a container restarted.
	if err := p.identify(ctx, cr.project, out); err != nil {
		return nil, err
	}
	return out, nil
}

// identify records the identities of the service's containers in the project.
func (p *profiler) identify(ctx context.Context, project string, out *runOutcome) error {
	list, err := p.docker.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", "com.docker.compose.project="+project),
		filters.Arg("label", "com.docker.compose.service="+p.service),
	)})
	if err != nil {
		return fmt.Errorf("list containers of %s: %w", project, err)
	}
	known := map[string]int{}
	for i, c := range out.containers {
		known[c.ID] = i
	}
	for _, c := range list {
		inspect, err := p.docker.ContainerInspect(ctx, c.ID)
		if err != nil {
			if client.IsErrNotFound(err) {
				continue
			}
			return fmt.Errorf("inspect container %s: %w", c.ID, err)
		}
		id := containerIdentity{ID: c.ID, ImageID: inspect.Image}
		if inspect.Config != nil {
			id.Hostname = inspect.Config.Hostname
		}
		if inspect.State != nil && inspect.State.Running && inspect.State.Pid > 0 {
			ino, err1 := tracer.MntNSOf(inspect.State.Pid)
			nsid, err2 := tracer.MntNSIDOf(inspect.State.Pid)
			if err1 == nil && err2 == nil {
				id.MntNS = nsKey{ino, nsid}
			}
		}
		if i, ok := known[c.ID]; ok {
			if id.MntNS == (nsKey{}) {
				id.MntNS = out.containers[i].MntNS
			}
			out.containers[i] = id
			continue
		}
		out.containers = append(out.containers, id)
	}
	sort.SliceStable(out.containers, func(i, j int) bool { return out.containers[i].ID < out.containers[j].ID })
	return nil
}

// waitExit waits until the container is no longer running or limit passes.
func (p *profiler) waitExit(ctx context.Context, id string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		inspect, err := p.docker.ContainerInspect(ctx, id)
		if err != nil {
			if client.IsErrNotFound(err) {
				return nil
			}
			return fmt.Errorf("inspect container %s: %w", id, err)
		}
		if !inspect.State.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}

// traceExecFiles inspects the files of the programs the service executed
// so far, while its containers still exist.
func (p *profiler) traceExecFiles(ctx context.Context, out *runOutcome, containerID string) error {
	snap, err := p.tr.Snapshot()
	if err != nil {
		return fmt.Errorf("read the tracer's maps: %w", err)
	}
	ns := out.mntns(snap)
	seen := map[string]bool{}
	var paths []string
	for _, e := range snap.Execs {
		if ns[nsKey{e.MntNS, e.MntNSID}] && !seen[e.Path] {
			seen[e.Path] = true
			paths = append(paths, e.Path)
		}
	}
	if len(paths) == 0 {
		return nil
	}
	fmt.Fprintf(p.progress, "capprof:   inspecting %s for setuid bits and file capabilities\n", count(len(paths), "executed program", "executed programs"))
	out.execFiles = p.inspectExecFiles(ctx, containerID, paths)
	for _, pth := range paths {
		f := out.execFiles[pth]
		switch {
		case f.err != nil:
			fmt.Fprintf(p.progress, "capprof: warning: %s: %v\n", pth, f.err)
		case f.file.FileCaps != "":
			fmt.Fprintf(p.progress, "capprof:   %s has file capabilities %s\n", pth, f.file.FileCaps)
		case f.file.Setuid || f.file.Setgid:
			fmt.Fprintf(p.progress, "capprof:   %s is mode %s, owned by %d:%d\n", pth, f.file.Mode, f.file.UID, f.file.GID)
		}
	}
	return ctx.Err()
}
