package profiler

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	dockertypes "github.com/docker/docker/api/types"
	"github.com/docker/docker/client"

	"github.com/capprof/capprof/profiles"
	"github.com/capprof/capprof/tracer"
)

// Options are the inputs of one `capprof profile`.
type Options struct {
	// ComposeFiles are the user's compose files, merged in order.
	ComposeFiles []string
	// Service is the service to profile.
	Service  string
	Workload Workload
	// OutDir receives compose.override.yml, seccomp/SERVICE.json and report.json.
	OutDir string
	// SkipVerify leaves out the replay; the result is then unverified.
	SkipVerify bool
	// Progress receives one line per step.
	Progress io.Writer
}

// Result is what a profile produced.
type Result struct {
	Report profiles.Report
	Policy profiles.Policy
	// Files are the paths written, relative to the working directory.
	Files []string
	// Summary is the before/after table, one line each.
	Summary []string
}

type profiler struct {
	project  *types.Project
	service  string
	workload Workload
	docker   *client.Client
	progress io.Writer
}

// Profile runs the whole job: trace run, recording, emitting and replay. It
// returns ErrWorkloadFailed when the trace run's workload failed (nothing is
// written) and ErrVerificationFailed when the replay did not pass (the files
// and the report saying why are written).
func Profile(ctx context.Context, opts Options) (*Result, error) {
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Workload.Timeout <= 0 {
		opts.Workload.Timeout = 2 * time.Minute
	}
	project, err := LoadProject(ctx, opts.ComposeFiles)
	if err != nil {
		return nil, err
	}
	svc, err := lookupService(project, opts.Service)
	if err != nil {
		return nil, err
	}
	out, outWarning, err := prepareOutput(opts.OutDir, project.WorkingDir, opts.Service, project.ComposeFiles)
	if err != nil {
		return nil, err
	}
	if outWarning != "" {
		fmt.Fprintf(opts.Progress, "capprof: warning: %s\n", outWarning)
	}
	if err := requireRoot(); err != nil {
		return nil, err
	}
	dc, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	defer dc.Close()
	version, err := dc.ServerVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the Docker daemon (start dockerd, or set DOCKER_HOST): %w", err)
	}
	p := &profiler{project: project, service: opts.Service, workload: opts.Workload, docker: dc, progress: opts.Progress}

	devs, err := hostDevices("/dev")
	if err != nil {
		return nil, err
	}
	host := profiles.HostFacts{Kernel: kernelRelease(), Arch: runtime.GOARCH, DockerVersion: version.Version}
	host.Runtime = runtimeName(ctx, dc, version)
	tp, err := tracePrivilege(version.Version, devs)
	if err != nil {
		return nil, err
	}
	emulated := privilegedClosure(project, svc)
	tmp, err := os.MkdirTemp("", "capprof-")
	if err != nil {
		return nil, fmt.Errorf("make a temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	traceFiles := append([]string(nil), project.ComposeFiles...)
	if len(emulated) > 0 {
		y, err := traceOverride(emulated, tp)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(tmp, "trace.override.yml")
		if err := os.WriteFile(path, y, 0o644); err != nil {
			return nil, fmt.Errorf("write trace override: %w", err)
		}
		traceFiles = append(traceFiles, path)
		host.NotGranted = tp.NotGranted
		fmt.Fprintf(p.progress, "capprof: this host cannot start privileged containers; the trace run emulates privileged mode for %s with %d capabilities, %d devices, no seccomp/AppArmor/masked paths. Left out:\n", strings.Join(emulated, ", "), len(tp.Capabilities), len(tp.Devices))
		for _, n := range tp.NotGranted {
			fmt.Fprintf(p.progress, "capprof:   - %s\n", n)
		}
	}

	fmt.Fprintf(p.progress, "capprof: attaching the eBPF tracer\n")
	tr, err := tracer.New()
	if err != nil {
		return nil, fmt.Errorf("start tracer: %w", err)
	}
	defer tr.Close()
	host.Notes = append(host.Notes, tr.Notes()...)

	trace, err := p.runService(ctx, "trace", traceFiles, nil)
	if err != nil {
		return nil, err
	}
	if trace.workloadErr != nil {
		return nil, fmt.Errorf("trace run: %w", trace.workloadErr)
	}
	snap, err := tr.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("read the tracer's maps: %w", err)
	}
	traceNS := trace.mntns(snap)
	if len(traceNS) == 0 {
		return nil, fmt.Errorf("the tracer saw no process of service %q: %w", p.service, ErrNoContainer)
	}
	rec, err := buildRecording(snap, traceNS, devicePaths(devs), host.Arch)
	if err != nil {
		return nil, err
	}
	rec.Service = p.service
	rec.Image = svc.Image
	if len(trace.containers) > 0 {
		rec.ImageID = trace.containers[0].ImageID
	}
	fmt.Fprintf(p.progress, "capprof: recorded %s needed, %s of noise, %s, %s\n",
		count(len(rec.Capabilities), "capability", "capabilities"), count(len(rec.Noise), "kind", "kinds"),
		count(len(rec.Syscalls), "syscall", "syscalls"), count(len(rec.Devices), "device", "devices"))

	policy, err := profiles.NewPolicy(rec, profiles.PolicyOptions{
		SeccompPath:     out.seccompRel,
		EngineRejects:   engineRejects(version.Version),
		NoNewPrivileges: true,
	})
	if err != nil {
		return nil, fmt.Errorf("decide the policy: %w", err)
	}
	res := &Result{Policy: policy}
	report := profiles.Report{Tool: "capprof", Host: host}
	svcReport := profiles.ServiceReport{Recording: rec, Policy: policy.Summary()}
	if err := p.writeArtifacts(policy, rec.Arch, out.override, out.seccomp); err != nil {
		return nil, err
	}
	res.Files = []string{out.override, out.seccomp, out.report}

	var verifyErr error
	if !opts.SkipVerify {
		v, err := p.verify(ctx, tr, rec, policy, out.override, emulated, tp, tmp, trace)
		if err != nil {
			return nil, err
		}
		svcReport.Verification = v
		if !v.Passed {
			verifyErr = fmt.Errorf("%w: %s", ErrVerificationFailed, v.Message)
		}
	}
	report.Services = []profiles.ServiceReport{svcReport}
	res.Report = report
	js, err := report.JSON()
	if err != nil {
		return nil, fmt.Errorf("write report: %w", err)
	}
	if err := writeFile(out.report, js); err != nil {
		return nil, err
	}
	res.Summary = summaryLines(tp, len(emulated) > 0, policy, svcReport.Verification)
	return res, verifyErr
}

// writeArtifacts writes the override and the seccomp profile, after checking
// that libseccomp compiles the profile.
func (p *profiler) writeArtifacts(policy profiles.Policy, arch, overridePath, seccompPath string) error {
	y, err := policy.ComposeOverride()
	if err != nil {
		return fmt.Errorf("write compose override: %w", err)
	}
	js, err := policy.SeccompProfile(arch)
	if err != nil {
		return fmt.Errorf("write seccomp profile: %w", err)
	}
	if err := profiles.ValidateSeccomp(js); err != nil {
		return fmt.Errorf("generated seccomp profile does not compile: %w", err)
	}
	if err := writeFile(overridePath, y); err != nil {
		return err
	}
	if err := writeFile(seccompPath, js); err != nil {
		return err
	}
	fmt.Fprintf(p.progress, "capprof: wrote %s and %s\n", overridePath, seccompPath)
	return nil
}

// verify replays the workload with the user's files plus the generated override.
func (p *profiler) verify(ctx context.Context, tr *tracer.Tracer, trace profiles.Recording, policy profiles.Policy,
	overridePath string, emulated []string, tp TracePrivilege, tmp string, traceRun *runOutcome) (*profiles.Verification, error) {
	files := append(append([]string(nil), p.project.ComposeFiles...), overridePath)
	var deps []string
	for _, s := range emulated {
		if s != p.service {
			deps = append(deps, s)
		}
	}
	if len(deps) > 0 {
		y, err := traceOverride(deps, tp)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(tmp, "replay-deps.override.yml")
		if err := os.WriteFile(path, y, 0o644); err != nil {
			return nil, fmt.Errorf("write replay override: %w", err)
		}
		files = append(files[:len(files)-1], path, overridePath)
	}
	replay, err := p.runService(ctx, "replay", files, traceRun)
	if err != nil {
		return nil, err
	}
	v := &profiles.Verification{Commands: replay.commands}
	snap, err := tr.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("read the tracer's maps: %w", err)
	}
	ns := replay.mntns(snap)
	replayRec, err := buildRecording(snap, ns, nil, trace.Arch)
	if err != nil {
		return nil, err
	}
	v.DeniedCapabilities, v.RefusedSyscalls = replayFindings(trace, replayRec, snap, ns, policy, trace.Arch)
	var problems []string
	if replay.workloadErr != nil {
		problems = append(problems, replay.workloadErr.Error())
	}
	if replay.stoppedEarly != "" {
		problems = append(problems, replay.stoppedEarly)
	}
	if len(v.DeniedCapabilities) > 0 {
		problems = append(problems, "capability checks denied: "+strings.Join(v.DeniedCapabilities, "; "))
	}
	if len(v.RefusedSyscalls) > 0 {
		problems = append(problems, "syscalls refused by the seccomp profile: "+strings.Join(v.RefusedSyscalls, "; "))
	}
	if len(problems) == 0 {
		v.Passed = true
		v.Message = "replay passed: the service ran the workload under the override with no denied capability check and no refused syscall"
	} else {
		v.Message = strings.Join(problems, "\n")
	}
	return v, nil
}

// privilegedClosure returns the service and the services it depends on,
// transitively, that ask for privileged mode, sorted.
func privilegedClosure(project *types.Project, svc types.ServiceConfig) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(s types.ServiceConfig)
	walk = func(s types.ServiceConfig) {
		if seen[s.Name] {
			return
		}
		seen[s.Name] = true
		if s.Privileged {
			out = append(out, s.Name)
		}
		for dep := range s.DependsOn {
			if d, err := project.GetService(dep); err == nil {
				walk(d)
			}
		}
	}
	walk(svc)
	sort.Strings(out)
	return out
}

// summaryLines is the before/after table printed at the end.
func summaryLines(tp TracePrivilege, emulated bool, policy profiles.Policy, v *profiles.Verification) []string {
	before := "privileged"
	if emulated {
		before = "privileged (emulated)"
	}
	caps := make([]string, 0, len(policy.CapAdd))
	for _, g := range policy.CapAdd {
		caps = append(caps, g.Capability)
	}
	devs := make([]string, 0, len(policy.Devices))
	for _, d := range policy.Devices {
		devs = append(devs, d.HostPath)
	}
	list := func(xs []string) string {
		if len(xs) == 0 {
			return "none"
		}
		return fmt.Sprintf("%d: %s", len(xs), strings.Join(xs, ", "))
	}
	result := "not verified (--no-verify)"
	if v != nil {
		result = "FAILED"
		if v.Passed {
			result = "passed"
		}
	}
	return []string{
		fmt.Sprintf("%-14s %-36s %s", "", before, "least privilege"),
		fmt.Sprintf("%-14s %-36s %s", "capabilities", fmt.Sprintf("all (%d granted on this host)", len(tp.Capabilities)), list(caps)),
		fmt.Sprintf("%-14s %-36s %s", "devices", fmt.Sprintf("all host devices (%d)", len(tp.Devices)), list(devs)),
		fmt.Sprintf("%-14s %-36s %s", "syscalls", "all (seccomp unconfined)", fmt.Sprintf("%d allowed, %d answered ENOSYS", len(policy.Syscalls), len(policy.NoSys))),
		fmt.Sprintf("%-14s %-36s %s", "replay", "", result),
	}
}

// runtimeName names the engine's default OCI runtime with its version when
// the engine reports one ("runc 1.1.5+ds1").
func runtimeName(ctx context.Context, dc *client.Client, version dockertypes.Version) string {
	name := "runc"
	if info, err := dc.Info(ctx); err == nil && info.DefaultRuntime != "" {
		name = info.DefaultRuntime
	}
	for _, c := range version.Components {
		if c.Name == name && c.Version != "" {
			return name + " " + c.Version
		}
	}
	return name
}

// count says "1 capability" or "3 capabilities".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// writeFile writes data, creating the directory.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
