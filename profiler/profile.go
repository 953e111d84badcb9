package profiler

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

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
	// Minimize removes, by replay, every grant the workload passes without.
	Minimize bool
	// NoNewPrivileges sets (true) or leaves out (false) no-new-privileges;
	// nil decides from the trace run: set, unless a program the service
	// executed gained privilege by setuid, setgid or file capabilities,
	// which no-new-privileges would silently withhold.
	NoNewPrivileges *bool
	// SkipVerify leaves out the replay; the result is then unverified.
	SkipVerify bool
	// Arch is the architecture of a second seccomp profile, translated from
	// the recording's and not verified ("arm64", or "aarch64"); empty or the
	// recording's own architecture: none.
	Arch string
	// Progress receives one line per step.
	Progress io.Writer
}

// Result is what a profile produced.
type Result struct {
	Report profiles.Report
	Policy profiles.Policy
	// Files are the paths written.
	Files []string
	// Summary is the before/after table, one line each.
	Summary []string
}

// Profile runs the whole job: trace run, recording, emitting, optional
// minimization and the replay that verifies. It returns ErrWorkloadFailed
// when the trace run's workload failed (nothing is written) and
// ErrVerificationFailed when the replay did not pass (the files and the
// report saying why are written).
func Profile(ctx context.Context, opts Options) (*Result, error) {
	if _, err := ParseArch(opts.Arch); err != nil {
		return nil, err
	}
	p, err := newSession(ctx, opts.ComposeFiles, opts.Service, opts.Workload, opts.OutDir, opts.NoNewPrivileges, opts.Progress)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	p.announceEmulation()

	// Whether or not privileged mode is emulated, the traced service starts
	// from the kernel's defaults of what a container inherits from the
	// host, so that its own writes show.
	ownNet, _ := sysctlScopes(p.svc.NetworkMode, p.svc.Ipc)
	traceFiles, err := p.emulationFiles("trace.override.yml", p.emulated, traceSysctls(p.svc.Sysctls, ownNet))
	if err != nil {
		return nil, err
	}
	written := false
	defer func() {
		if !written {
			p.out.removeIfUnused()
		}
	}()
	if err := p.translateTo(opts.Arch, p.host.Arch); err != nil {
		return nil, err
	}
	trace, err := p.runService(ctx, "trace", traceFiles, nil)
	if err != nil {
		return nil, err
	}
	p.traceEnd = trace
	snap, err := p.tr.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("read the tracer's maps: %w", err)
	}
	traceNS := trace.mntns(snap)
	if trace.workloadErr != nil {
		return nil, fmt.Errorf("trace run: %w%s", trace.workloadErr, p.deniedHint(snap, traceNS))
	}
	if len(traceNS) == 0 {
		return nil, fmt.Errorf("the tracer saw no process of service %q: %w", p.service, ErrNoContainer)
	}
	rec, err := buildRecording(snap, traceNS, devicePaths(p.devices), p.host.Arch)
	if err != nil {
		return nil, err
	}
	written = true
	rec.Service = p.service
	rec.Image = p.svc.Image
	rec.Sysctls = trace.sysctls
	for i, e := range rec.Execs {
		if f, ok := trace.execFiles[e.Path]; ok {
			rec.Execs[i].File = f.file
			if f.err != nil {
				rec.Execs[i].FileError = f.err.Error()
			}
		}
	}
	if len(trace.containers) > 0 {
		rec.ImageID = trace.containers[0].ImageID
	}
	needed := 0
	for _, c := range rec.Capabilities {
		if c.Granted > 0 {
			needed++
		}
	}
	tolerated := ""
	if n := len(deniedOnlyCapabilities(rec)); n > 0 {
		tolerated = " (" + count(n, "capability", "capabilities") + " only denied, and tolerated, among them)"
	}
	fmt.Fprintf(p.progress, "capprof: recorded %s needed, %s of noise%s, %s, %s, %s executed\n",
		count(needed, "capability", "capabilities"), count(len(rec.Noise), "kind", "kinds"), tolerated,
		count(len(rec.Syscalls), "syscall", "syscalls"), count(len(rec.Devices), "device", "devices"),
		count(len(rec.Execs), "program", "programs"))
	return p.finish(ctx, rec, opts.Minimize, opts.SkipVerify)
}

// finish decides the policy from a recording, writes it, minimizes it when
// asked, verifies it by replay and writes the report.
func (p *profiler) finish(ctx context.Context, rec profiles.Recording, minimize, skipVerify bool) (*Result, error) {
	policy, err := profiles.NewPolicy(rec, p.policyOptions())
	if err != nil {
		return nil, fmt.Errorf("decide the policy: %w", err)
	}
	// Until a replay passes, the override says it is unproven: an
	// interrupted run leaves it so.
	policy.Unverified = unverified(skipVerify)
	archProfile, err := p.writeArtifacts(policy, rec.Arch)
	if err != nil {
		return nil, err
	}
	sr := profiles.ServiceReport{Recording: rec, Invocation: p.invocation()}
	// The report is written with each unverified override, before any
	// replay, so that an interrupted replay leaves files that agree they
	// are unverified (capprof minimize overwrites a verified one).
	writeUnverifiedReport := func() error {
		sr.Policy = policy.Summary()
		sr.Policy.ArchProfile = archProfile
		_, err := p.writeReport(sr)
		return err
	}
	if err := writeUnverifiedReport(); err != nil {
		return nil, err
	}
	var tolerate map[string]bool
	if minimize {
		var m *profiles.Minimization
		policy, m, tolerate, err = p.minimize(ctx, rec, policy)
		if err != nil {
			return nil, err
		}
		policy.Unverified = unverified(skipVerify)
		sr.Minimization = m
		if archProfile, err = p.writeArtifacts(policy, rec.Arch); err != nil {
			return nil, err
		}
		if err := writeUnverifiedReport(); err != nil {
			return nil, err
		}
	}
	var verifyErr error
	if !skipVerify {
		v, err := p.verify(ctx, rec, policy, p.out.override, tolerate)
		if err != nil {
			return nil, fmt.Errorf("%w (the files in %s say they are not verified)", err, p.out.dir)
		}
		sr.Verification = v
		policy.Unverified = ""
		if !v.Passed {
			verifyErr = fmt.Errorf("%w: %s", ErrVerificationFailed, v.Message)
			policy.Unverified = "the replay under this override FAILED; report.json's verification says what was denied"
		}
		// The same override, its head comment now saying what the replay
		// proved.
		if archProfile, err = p.writeArtifacts(policy, rec.Arch); err != nil {
			return nil, err
		}
		sr.Policy.ArchProfile = archProfile
	}
	report, err := p.writeReport(sr)
	if err != nil {
		return nil, err
	}
	files := []string{p.out.override, p.out.seccomp, p.out.report}
	if p.out.archSeccomp != "" {
		files = append(files, p.out.archSeccomp)
	}
	return &Result{
		Report:  report,
		Policy:  policy,
		Files:   files,
		Summary: summaryLines(p.before(), policy, archProfile, sr.Verification, sr.Minimization),
	}, verifyErr
}

// unverified is what an override says of itself before its replay.
func unverified(skipVerify bool) string {
	if skipVerify {
		return "written with --no-verify: no replay under this override proved it"
	}
	return "no replay under this override has passed yet (a run interrupted before its replay ended leaves this line)"
}

// deniedHint explains a failed trace run by the capabilities the service
// was denied although it ran with everything this host can give: those this
// host cannot grant at all.
func (p *profiler) deniedHint(snap *tracer.Snapshot, ns map[nsKey]bool) string {
	rec, err := buildRecording(snap, ns, nil, p.host.Arch)
	if err != nil {
		return ""
	}
	denied := slices.Sorted(maps.Keys(capabilityDenials(rec)))
	if len(denied) == 0 {
		return ""
	}
	pronoun := "them"
	if len(denied) == 1 {
		pronoun = "it"
	}
	return fmt.Sprintf("\nthe service was denied %s in the trace run, which had every capability this host can give: this host cannot grant %s (see \"Left out\" above)",
		strings.Join(denied, ", "), pronoun)
}

// invocation records how this session profiles the service, with paths
// relative to the output directory, for a later `capprof minimize`.
func (p *profiler) invocation() *profiles.Invocation {
	in := &profiles.Invocation{
		Service:         p.service,
		Exec:            p.workload.Exec,
		Run:             p.workload.Run,
		Timeout:         p.workload.Timeout.String(),
		StartupGrace:    p.workload.StartupGrace.String(),
		NoNewPrivileges: p.nnp,
		Arch:            p.arch,
	}
	if p.workload.Duration > 0 {
		in.Duration = p.workload.Duration.String()
	}
	for _, f := range p.project.ComposeFiles {
		in.ComposeFiles = append(in.ComposeFiles, relativeTo(p.out.dir, f))
	}
	if p.traceEnd != nil {
		in.TraceEnd = "running"
		if !p.traceEnd.runningAtEnd {
			in.TraceEnd = fmt.Sprintf("exited %d", p.traceEnd.exitCode)
		}
	}
	return in
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
// beforeColumn is the summary's first column: what the service ran with
// in its compose file.
type beforeColumn struct {
	heading, capabilities, devices, syscalls string
}

// before describes how the service is written: privileged (or its
// emulation), or what it asked for when it is not privileged.
func (p *profiler) before() beforeColumn {
	if !p.svc.Privileged {
		syscalls := "Docker's default seccomp"
		for _, o := range p.svc.SecurityOpt {
			if o == "seccomp=unconfined" || o == "seccomp:unconfined" {
				syscalls = "all (seccomp unconfined)"
			}
		}
		return beforeColumn{
			heading:      "as written (not privileged)",
			capabilities: fmt.Sprintf("defaults, %d added, %d dropped", len(p.svc.CapAdd), len(p.svc.CapDrop)),
			devices:      fmt.Sprintf("%d mapped", len(p.svc.Devices)),
			syscalls:     syscalls,
		}
	}
	heading := "privileged"
	if slices.Contains(p.emulated, p.service) {
		heading = "privileged (emulated)"
	}
	return beforeColumn{
		heading:      heading,
		capabilities: fmt.Sprintf("all (%d granted on this host)", len(p.tp.Capabilities)),
		devices:      fmt.Sprintf("all host devices (%d)", len(p.tp.Devices)),
		syscalls:     "all (seccomp unconfined)",
	}
}

func summaryLines(b beforeColumn, policy profiles.Policy, ap *profiles.ArchProfile, v *profiles.Verification, m *profiles.Minimization) []string {
	before := b.heading
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
	lines := []string{
		fmt.Sprintf("%-14s %-36s %s", "", before, "least privilege"),
		fmt.Sprintf("%-14s %-36s %s", "capabilities", b.capabilities, list(caps)),
		fmt.Sprintf("%-14s %-36s %s", "devices", b.devices, list(devs)),
		fmt.Sprintf("%-14s %-36s %s", "syscalls", b.syscalls, fmt.Sprintf("%d allowed, %d answered ENOSYS", len(policy.Syscalls), len(policy.NoSys))),
		fmt.Sprintf("%-14s %-36s %s", "new privs", "allowed", nnpSummary(policy)),
	}
	if m != nil {
		var removed []string
		for _, r := range m.Removed {
			removed = append(removed, r.Grant)
		}
		lines = append(lines, fmt.Sprintf("%-14s %-36s %s", "minimized", count(m.Replays, "replay", "replays"), "removed "+list(removed)))
	}
	if ap != nil {
		lines = append(lines, fmt.Sprintf("%-14s %-36s %s", "syscalls "+ap.To, "translated from "+ap.From+", not verified",
			fmt.Sprintf("%d allowed, %d answered ENOSYS, %d renamed, dropped %s", ap.SyscallsAllowed, len(ap.NoSys), len(ap.Translated), list(ap.Dropped))))
	}
	return append(lines, fmt.Sprintf("%-14s %-36s %s", "replay", "", result))
}

// count says "1 capability" or "3 capabilities".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// nnpSummary says whether the override sets no-new-privileges, and why not.
func nnpSummary(policy profiles.Policy) string {
	if policy.NoNewPrivileges {
		return "no-new-privileges"
	}
	return "allowed (" + strings.TrimPrefix(policy.NoNewPrivilegesWhy, "left off: ") + ")"
}

// ParseArch checks an --arch value: empty (none), amd64 or arm64, or the
// kernel's names for them (x86_64, aarch64). It returns the value as the
// profiles name it ("aarch64" is "arm64"), so that the command line can
// refuse a wrong one before anything runs.
func ParseArch(arch string) (string, error) {
	if arch == "" {
		return "", nil
	}
	a, err := profiles.ParseArch(arch)
	if err != nil {
		return "", fmt.Errorf("--arch: %w", err)
	}
	return a, nil
}
