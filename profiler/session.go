package profiler

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	dockertypes "github.com/docker/docker/api/types"
	"github.com/docker/docker/client"

	"github.com/capprof/capprof/profiles"
	"github.com/capprof/capprof/tracer"
)

// profiler is one session against one service: the loaded project, the
// Docker client, the host's facts, the tracer and the output paths, shared
// by the trace run and every replay.
type profiler struct {
	project  *types.Project
	svc      types.ServiceConfig
	service  string
	workload Workload
	docker   *client.Client
	progress io.Writer

	version  dockertypes.Version
	host     profiles.HostFacts
	devices  []HostDevice
	tp       TracePrivilege
	emulated []string // privileged services whose privilege the trace run emulates
	out      outputPaths
	tmp      string
	tr       *tracer.Tracer
	// traceEnd is how the service ended the trace run; replays must match.
	traceEnd *runOutcome
	// nnp is the caller's no-new-privileges choice; nil decides from the trace run.
	nnp *bool
	// wroteOnce says the progress has named the files written: they are
	// rewritten after minimization and the replay, and named once.
	wroteOnce bool
	// arch is the architecture a second seccomp profile is translated to
	// (--arch); empty when it is the recording's.
	arch string
}

// newSession loads the project, checks the output directory, reaches Docker,
// reads the host and attaches the tracer. Close releases all of it.
func newSession(ctx context.Context, files []string, service string, w Workload, outDir string, nnp *bool, progress io.Writer) (*profiler, error) {
	if progress == nil {
		progress = io.Discard
	}
	if w.Timeout <= 0 {
		w.Timeout = 2 * time.Minute
	}
	project, err := LoadProject(ctx, files)
	if err != nil {
		return nil, err
	}
	svc, err := lookupService(project, service)
	if err != nil {
		return nil, err
	}
	out, outWarning, err := prepareOutput(outDir, project.WorkingDir, service, project.ComposeFiles)
	if err != nil {
		return nil, err
	}
	if outWarning != "" {
		fmt.Fprintf(progress, "capprof: warning: %s\n", outWarning)
	}
	if kept := persistentMounts(project, svc); len(kept) > 0 {
		fmt.Fprintf(progress, "capprof: warning: the trace run and every replay mount %s as they are: what the service writes there stays, and each run starts from what the last one left\n", strings.Join(kept, ", "))
	}
	if err := requireRoot(); err != nil {
		return nil, err
	}
	p := &profiler{project: project, svc: svc, service: service, workload: w, progress: progress, out: out, nnp: nnp}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	if p.docker, err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation()); err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if p.version, err = p.docker.ServerVersion(ctx); err != nil {
		return nil, fmt.Errorf("cannot reach the Docker daemon (start dockerd, or set DOCKER_HOST): %w", err)
	}
	if p.devices, err = hostDevices("/dev"); err != nil {
		return nil, err
	}
	p.host = profiles.HostFacts{Kernel: kernelRelease(), Arch: runtime.GOARCH, DockerVersion: p.version.Version,
		Runtime: runtimeName(ctx, p.docker, p.version, svc.Runtime)}
	supported, bounding, err := boundingSet()
	if err != nil {
		return nil, err
	}
	if p.tp, err = tracePrivilege(p.version.Version, supported, bounding, p.devices); err != nil {
		return nil, err
	}
	if p.tp.Emulate {
		p.emulated = privilegedClosure(project, svc)
	}
	if p.tmp, err = os.MkdirTemp("", "capprof-"); err != nil {
		return nil, fmt.Errorf("make a temporary directory: %w", err)
	}
	fmt.Fprintf(progress, "capprof: attaching the eBPF tracer\n")
	if p.tr, err = tracer.New(); err != nil {
		return nil, fmt.Errorf("start tracer: %w", err)
	}
	p.host.Notes = append(p.host.Notes, p.tr.Notes()...)
	ok = true
	return p, nil
}

// Close detaches the tracer and removes temporary files.
func (p *profiler) Close() {
	if p.tr != nil {
		p.tr.Close()
	}
	if p.tmp != "" {
		os.RemoveAll(p.tmp)
	}
	if p.docker != nil {
		p.docker.Close()
	}
}

// emulationFiles returns the compose files of a run: the user's, then the
// removal of fixed container names, then the emulation of privileged mode
// for the named services (when this host needs it) and the sysctls the
// traced service starts with (the trace run's, see traceSysctls), then
// extra (the generated override of a replay).
func (p *profiler) emulationFiles(name string, services []string, sysctls map[string]string, extra ...string) ([]string, error) {
	files := append([]string(nil), p.project.ComposeFiles...)
	var named []string
	for _, s := range p.project.Services {
		if s.ContainerName != "" {
			named = append(named, s.Name)
		}
	}
	if len(named) > 0 {
		y, err := isolationOverride(named)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(p.tmp, "isolation.override.yml")
		if err := os.WriteFile(path, y, 0o644); err != nil {
			return nil, fmt.Errorf("write isolation override: %w", err)
		}
		files = append(files, path)
	}
	if len(services) > 0 || len(sysctls) > 0 {
		y, err := traceOverride(services, p.tp, p.service, sysctls)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(p.tmp, name)
		if err := os.WriteFile(path, y, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
		files = append(files, path)
	}
	return append(files, extra...), nil
}

// announceEmulation says what the trace run gives in place of privileged mode.
func (p *profiler) announceEmulation() {
	if len(p.emulated) == 0 {
		return
	}
	p.host.NotGranted = p.tp.NotGranted
	fmt.Fprintf(p.progress, "capprof: this host cannot start privileged containers; the trace run emulates privileged mode for %s with %d capabilities, %d devices, no seccomp/AppArmor/masked paths. Left out:\n",
		strings.Join(p.emulated, ", "), len(p.tp.Capabilities), len(p.tp.Devices))
	for _, n := range p.tp.NotGranted {
		fmt.Fprintf(p.progress, "capprof:   - %s\n", n)
	}
}

// dependencies returns the emulated services other than the profiled one:
// a replay still gives them what the trace run gave.
func (p *profiler) dependencies() []string {
	var deps []string
	for _, s := range p.emulated {
		if s != p.service {
			deps = append(deps, s)
		}
	}
	return deps
}

// policyOptions are the options every policy of this session is decided with.
func (p *profiler) policyOptions() profiles.PolicyOptions {
	return profiles.PolicyOptions{
		SeccompPath:     p.out.seccompRel,
		EngineRejects:   engineRejects(p.version.Version),
		NoNewPrivileges: p.nnp,
		SharedMounts:    sharedMounts(p.svc),
	}
}

// sharedMounts lists the service's bind mounts with shared or slave
// propagation, as "target (rshared)".
func sharedMounts(svc types.ServiceConfig) []string {
	var out []string
	for _, v := range svc.Volumes {
		if v.Type != types.VolumeTypeBind || v.Bind == nil {
			continue
		}
		switch prop := v.Bind.Propagation; prop {
		case "shared", "rshared": // slave only receives the host's mounts
			out = append(out, v.Target+" ("+prop+")")
		}
	}
	return out
}

// writeArtifacts writes the override and the seccomp profile and, with
// --arch, the profile translated to that architecture, after checking that
// libseccomp compiles each. It returns the translated profile's summary for
// the report, nil without one.
func (p *profiler) writeArtifacts(policy profiles.Policy, arch string) (*profiles.ArchProfile, error) {
	y, err := policy.ComposeOverride()
	if err != nil {
		return nil, fmt.Errorf("write compose override: %w", err)
	}
	js, err := policy.SeccompProfile(arch)
	if err != nil {
		return nil, fmt.Errorf("write seccomp profile: %w", err)
	}
	if err := profiles.ValidateSeccomp(js); err != nil {
		return nil, fmt.Errorf("generated seccomp profile does not compile: %w", err)
	}
	var translated profiles.Policy
	var translatedJS []byte
	if p.arch != "" {
		if translated, err = policy.ForArch(p.arch); err != nil {
			return nil, fmt.Errorf("write the %s seccomp profile: %w", p.arch, err)
		}
		if translatedJS, err = translated.SeccompProfile(p.arch); err != nil {
			return nil, fmt.Errorf("write the %s seccomp profile: %w", p.arch, err)
		}
		if err := profiles.ValidateSeccomp(translatedJS); err != nil {
			return nil, fmt.Errorf("generated %s seccomp profile does not compile: %w", p.arch, err)
		}
	}
	if err := writeFile(p.out.override, y); err != nil {
		return nil, err
	}
	if err := writeFile(p.out.seccomp, js); err != nil {
		return nil, err
	}
	announce := !p.wroteOnce
	p.wroteOnce = true
	if announce {
		fmt.Fprintf(p.progress, "capprof: wrote %s, %s and %s\n", p.out.override, p.out.seccomp, p.out.report)
	}
	if translatedJS == nil {
		return nil, nil
	}
	if err := writeFile(p.out.archSeccomp, translatedJS); err != nil {
		return nil, err
	}
	if announce {
		fmt.Fprintf(p.progress, "capprof: wrote %s, translated to %s (a replay runs on %s only: not verified)\n", p.out.archSeccomp, p.arch, arch)
	}
	return translated.ArchProfile(), nil
}

// translateTo sets the architecture a second seccomp profile is translated
// to, when it is not the recorded one, and checks that its file is
// capprof's to write, as prepareOutput checks the others.
func (p *profiler) translateTo(arch, recorded string) error {
	if arch == "" {
		return nil
	}
	to, err := ParseArch(arch)
	if err != nil {
		return err
	}
	if from, err := profiles.ParseArch(recorded); err == nil && from == to {
		return nil
	}
	p.arch = to
	p.out.archSeccomp = profiles.ArchSeccompPath(p.out.seccomp, to)
	return p.out.checkOwnership()
}

// writeReport writes report.json for one service.
func (p *profiler) writeReport(sr profiles.ServiceReport) (profiles.Report, error) {
	report := profiles.Report{Tool: "capprof", Host: p.host, Services: []profiles.ServiceReport{sr}}
	js, err := report.JSON()
	if err != nil {
		return report, fmt.Errorf("write report: %w", err)
	}
	return report, writeFile(p.out.report, js)
}

// runtimeName names the OCI runtime the service runs under (its own
// `runtime:`, else the engine's default) with its version when the engine
// reports one ("runc 1.1.5+ds1").
func runtimeName(ctx context.Context, dc *client.Client, version dockertypes.Version, service string) string {
	name := service
	if name == "" {
		name = "runc"
		if info, err := dc.Info(ctx); err == nil && info.DefaultRuntime != "" {
			name = info.DefaultRuntime
		}
	}
	for _, c := range version.Components {
		if c.Name == name && c.Version != "" {
			return name + " " + c.Version
		}
	}
	return name
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
