package profiler

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/moby/sys/capability"
	seccomp "github.com/seccomp/libseccomp-golang"

	"github.com/capprof/capprof/profiles"
	"github.com/capprof/capprof/tracer"
)

// nsKey names one mount namespace: its inode number, which the kernel reuses
// as soon as the namespace is freed, and its id, which it never reuses.
type nsKey struct {
	ino uint32
	id  uint64
}

// errnoEPERM is what the generated profile answers for a syscall it refuses.
const errnoEPERM = 1

// programCounts accumulates counts per program and returns them sorted.
type programCounts map[string]uint64

func (p programCounts) list() []profiles.ProgramCount {
	out := make([]profiles.ProgramCount, 0, len(p))
	for prog, n := range p {
		out = append(out, profiles.ProgramCount{Program: prog, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Program < out[j].Program })
	return out
}

func (p programCounts) add(prog string, n uint64) {
	if prog == "" {
		prog = "?"
	}
	p[prog] += n
}

// syscallName resolves a syscall number for the recording's architecture.
func syscallName(arch seccomp.ScmpArch, nr int) string {
	name, err := seccomp.ScmpSyscall(nr).GetNameByArch(arch)
	if err != nil || name == "" {
		return fmt.Sprintf("syscall_%d", nr)
	}
	return name
}

// deviceKey names a device number the way the device cgroup does.
func deviceKey(typ string, major, minor uint32) string {
	return fmt.Sprintf("%s %d:%d", typ, major, minor)
}

// devicePaths maps device numbers to the host path of their node.
func devicePaths(devs []HostDevice) map[string]string {
	paths := map[string]string{}
	for _, d := range devs {
		k := deviceKey(d.Type, d.Major, d.Minor)
		if old, ok := paths[k]; !ok || len(d.Path) < len(old) {
			paths[k] = d.Path
		}
	}
	return paths
}

// capsetKeepSite is the site of a need that only a capset(2) call showed.
const capsetKeepSite = "capset (kept across a change of user)"

// buildRecording turns what the tracer saw in the service's mount namespaces
// into a classified Recording: needs apart from noise (including the
// capabilities the workload kept through capset), workload syscalls apart
// from the runtime's, and the devices the workload used beyond the defaults.
func buildRecording(snap *tracer.Snapshot, mntns map[nsKey]bool, devPaths map[string]string, arch string) (profiles.Recording, error) {
	scmpArch, err := seccomp.GetArchFromString(arch)
	if err != nil {
		return profiles.Recording{}, fmt.Errorf("architecture %q: %w", arch, err)
	}
	rec := profiles.Recording{Arch: arch}

	type capAgg struct {
		use   profiles.CapabilityUse
		progs programCounts
		sites map[string]bool
	}
	needs := map[int]*capAgg{}
	// Noise is kept per call site, so that the report says where each kind
	// of check came from.
	type noiseKey struct {
		cap   int
		class profiles.NoiseClass
		site  string
	}
	type noiseAgg struct {
		use   profiles.NoiseUse
		progs programCounts
	}
	noise := map[noiseKey]*noiseAgg{}
	denials := map[noiseKey]*noiseAgg{}
	dacOverride := dacOverrideGranted(snap, mntns)
	for _, c := range snap.CapChecks {
		if !mntns[nsKey{c.MntNS, c.MntNSID}] {
			continue
		}
		class, site, isNoise := profiles.ClassifyCheck(c.Cap, c.Workload, c.ForeignCred, c.Stack)
		if class == profiles.NoiseRuntimeSetup && c.ExecSetup {
			class = profiles.NoiseExecSetup
		}
		if !isNoise && dacOverride && c.Cap == capDacReadSearch && site == dacFallbackSite {
			class, isNoise = profiles.NoiseSubsumed, true
		}
		if isNoise {
			k := noiseKey{c.Cap, class, site}
			a := noise[k]
			if a == nil {
				a = &noiseAgg{use: profiles.NoiseUse{Capability: profiles.CapName(c.Cap), Class: class, Site: site}, progs: programCounts{}}
				noise[k] = a
			}
			a.use.Count += c.Count
			a.progs.add(c.Comm, c.Count)
			continue
		}
		a := needs[c.Cap]
		if a == nil {
			a = &capAgg{use: profiles.CapabilityUse{Capability: profiles.CapName(c.Cap)}, progs: programCounts{}, sites: map[string]bool{}}
			needs[c.Cap] = a
		}
		if c.Denied {
			a.use.Denied += c.Count
			// Kept per site too, in case no check of the capability is
			// granted: then these are denied-tolerated noise.
			k := noiseKey{c.Cap, profiles.NoiseDeniedTolerated, site}
			d := denials[k]
			if d == nil {
				d = &noiseAgg{use: profiles.NoiseUse{Capability: profiles.CapName(c.Cap), Class: profiles.NoiseDeniedTolerated, Site: site}, progs: programCounts{}}
				denials[k] = d
			}
			d.use.Count += c.Count
			d.progs.add(c.Comm, c.Count)
		} else {
			a.use.Granted += c.Count
		}
		a.progs.add(c.Comm, c.Count)
		if site != "" {
			a.sites[site] = true
		}
	}
	// A program that keeps capabilities across a change of user asks capset
	// for them: the kernel compares the sets with the permitted one and
	// makes no check, so without this the replay would take them away. The
	// tracer only records a call that keeps less than the task's permitted
	// set (a deliberate keep; runc's own call is runtime setup) and only
	// capabilities within that set, so one the trace run did not have
	// cannot appear here.
	for _, k := range snap.CapsetKeeps {
		if !mntns[nsKey{k.MntNS, k.MntNSID}] || !k.Workload {
			continue
		}
		for c := 0; c < 64; c++ {
			if k.Kept&(1<<c) == 0 {
				continue
			}
			a := needs[c]
			if a != nil && a.use.Granted > 0 && !a.sites[capsetKeepSite] {
				continue
			}
			if a == nil {
				a = &capAgg{use: profiles.CapabilityUse{Capability: profiles.CapName(c)}, progs: programCounts{}, sites: map[string]bool{}}
				needs[c] = a
			}
			a.use.Granted += k.Count
			a.progs.add(k.Comm, k.Count)
			a.sites[capsetKeepSite] = true
		}
	}
	// A capability the workload asked for and was never granted is no need:
	// the trace run had every capability this host can give, and the
	// service passed without it. It is noise of its own class, so that the
	// report lists it with the other checks that grant nothing; a replay
	// still compares its denials with these (replayFindings).
	for k, d := range denials {
		if a := needs[k.cap]; a == nil || a.use.Granted == 0 {
			noise[k] = d
		}
	}
	for c, a := range needs {
		if a.use.Granted == 0 {
			delete(needs, c)
		}
	}
	for _, a := range needs {
		a.use.Programs = a.progs.list()
		for s := range a.sites {
			a.use.Sites = append(a.use.Sites, s)
		}
		sort.Strings(a.use.Sites)
		rec.Capabilities = append(rec.Capabilities, a.use)
	}
	sort.Slice(rec.Capabilities, func(i, j int) bool { return rec.Capabilities[i].Capability < rec.Capabilities[j].Capability })
	for _, a := range noise {
		a.use.Programs = a.progs.list()
		rec.Noise = append(rec.Noise, a.use)
	}
	sort.Slice(rec.Noise, func(i, j int) bool {
		a, b := rec.Noise[i], rec.Noise[j]
		if a.Capability != b.Capability {
			return a.Capability < b.Capability
		}
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		return a.Site < b.Site
	})

	workload := map[string]uint64{}
	runtime := map[string]uint64{}
	for _, s := range snap.Syscalls {
		if !mntns[nsKey{s.MntNS, s.MntNSID}] {
			continue
		}
		name := syscallName(scmpArch, s.Nr)
		if s.Workload {
			workload[name] += s.Count
		} else {
			runtime[name] += s.Count
		}
	}
	rec.Syscalls = syscallList(workload, nil)
	rec.RuntimeSyscalls = syscallList(runtime, workload)

	type devAgg struct {
		use    profiles.DeviceUse
		access map[byte]bool
		progs  programCounts
	}
	devs := map[string]*devAgg{}
	for _, d := range snap.Devices {
		if !mntns[nsKey{d.MntNS, d.MntNSID}] || !d.Workload {
			continue
		}
		typ := "c"
		if d.Block {
			typ = "b"
		}
		if isDefaultDevice(typ, d.Major, d.Minor) {
			continue
		}
		k := deviceKey(typ, d.Major, d.Minor)
		a := devs[k]
		if a == nil {
			a = &devAgg{use: profiles.DeviceUse{Type: typ, Major: d.Major, Minor: d.Minor, Path: devPaths[k]}, access: map[byte]bool{}, progs: programCounts{}}
			devs[k] = a
		}
		for i := 0; i < len(d.Access); i++ {
			a.access[d.Access[i]] = true
		}
		a.progs.add(d.Comm, d.Count)
	}
	for _, a := range devs {
		var acc strings.Builder
		for _, c := range []byte("rwm") {
			if a.access[c] {
				acc.WriteByte(c)
			}
		}
		a.use.Access = acc.String()
		a.use.Programs = a.progs.list()
		rec.Devices = append(rec.Devices, a.use)
	}
	sort.Slice(rec.Devices, func(i, j int) bool {
		return deviceKey(rec.Devices[i].Type, rec.Devices[i].Major, rec.Devices[i].Minor) < deviceKey(rec.Devices[j].Type, rec.Devices[j].Major, rec.Devices[j].Minor)
	})
	rec.Execs = execUses(snap, mntns)
	rec.ReadonlyWrites = readonlyWrites(snap, mntns)
	return rec, nil
}

const (
	capDacOverride   = int(capability.CAP_DAC_OVERRIDE)
	capDacReadSearch = int(capability.CAP_DAC_READ_SEARCH)
	// dacFallbackSite is the kernel function that asks for
	// CAP_DAC_READ_SEARCH and, when that is denied, for CAP_DAC_OVERRIDE on
	// the same inode (see profiles.NoiseSubsumed).
	dacFallbackSite = "generic_permission"
)

// dacOverrideGranted says whether the service's workload needed
// CAP_DAC_OVERRIDE: a granted check of it that is not noise.
func dacOverrideGranted(snap *tracer.Snapshot, mntns map[nsKey]bool) bool {
	for _, c := range snap.CapChecks {
		if c.Cap != capDacOverride || c.Denied || !mntns[nsKey{c.MntNS, c.MntNSID}] {
			continue
		}
		if _, _, isNoise := profiles.ClassifyCheck(c.Cap, c.Workload, c.ForeignCred, c.Stack); !isNoise {
			return true
		}
	}
	return false
}

// execUses lists the programs executed in the service's namespaces, by
// path, with what their execs gained (files are inspected separately).
func execUses(snap *tracer.Snapshot, mntns map[nsKey]bool) []profiles.ExecUse {
	byPath := map[string]*profiles.ExecUse{}
	gained := map[string]uint64{}
	for _, e := range snap.Execs {
		if !mntns[nsKey{e.MntNS, e.MntNSID}] {
			continue
		}
		u := byPath[e.Path]
		if u == nil {
			u = &profiles.ExecUse{Path: e.Path}
			byPath[e.Path] = u
		}
		u.Count += e.Count
		gained[e.Path] |= e.CapsGained
		if e.IDChanges > 0 {
			u.IDChange = idChange(e)
		}
	}
	out := make([]profiles.ExecUse, 0, len(byPath))
	for path, u := range byPath {
		u.CapsGained = profiles.CapSetNames(gained[path])
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// idChange describes the effective ids an exec changed:
// "run by uid 1000: euid 1000 -> 0".
func idChange(e tracer.Exec) string {
	var parts []string
	if e.EUIDBefore != e.EUIDAfter {
		parts = append(parts, fmt.Sprintf("euid %d -> %d", e.EUIDBefore, e.EUIDAfter))
	}
	if e.EGIDBefore != e.EGIDAfter {
		parts = append(parts, fmt.Sprintf("egid %d -> %d", e.EGIDBefore, e.EGIDAfter))
	}
	return fmt.Sprintf("run by uid %d: %s", e.UID, strings.Join(parts, ", "))
}

// readonlyWrites lists the paths the service's write opens failed on with EROFS.
func readonlyWrites(snap *tracer.Snapshot, mntns map[nsKey]bool) []profiles.PathCount {
	counts := map[string]uint64{}
	for _, w := range snap.ReadonlyWrites {
		if mntns[nsKey{w.MntNS, w.MntNSID}] {
			counts[w.Path] += w.Count
		}
	}
	out := make([]profiles.PathCount, 0, len(counts))
	for path, n := range counts {
		out = append(out, profiles.PathCount{Path: path, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// syscallList returns the counted names, sorted, leaving out those in skip.
func syscallList(counts map[string]uint64, skip map[string]uint64) []profiles.SyscallUse {
	out := make([]profiles.SyscallUse, 0, len(counts))
	for name, n := range counts {
		if _, ok := skip[name]; ok {
			continue
		}
		out = append(out, profiles.SyscallUse{Name: name, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// findings is what a replay was refused.
type findings struct {
	// denied are capability checks that fail the replay.
	denied []string
	// tolerated are denied checks of capabilities the policy leaves out on
	// purpose (minimization proved the service passes without them).
	tolerated []string
	// refused are syscalls the seccomp profile refused.
	refused []string
}

// replayFindings compares the replay with the trace run: a capability check
// denied under the override that the trace run granted, and a syscall the
// profile refused (EPERM for a syscall it does not allow), fail the replay.
// Checks denied as often in the trace run were tolerated by the service and
// do not count, nor do denials of the capabilities in tolerate (kernel
// names, "CAP_FOWNER"), which are listed apart.
func replayFindings(trace profiles.Recording, replay profiles.Recording, snap *tracer.Snapshot, mntns map[nsKey]bool, policy profiles.Policy, arch string, tolerate map[string]bool) findings {
	var f findings
	// The trace run had every capability this host can give: what it was
	// denied there (a capability the host lacks, a check made after the
	// program dropped its own privileges) the service tolerated.
	deniedInTrace := capabilityDenials(trace)
	deniedInReplay := capabilityDenials(replay)
	for _, name := range slices.Sorted(maps.Keys(deniedInReplay)) {
		d := deniedInReplay[name]
		if d.count == 0 || d.count <= deniedInTrace[name].countOrZero() {
			continue
		}
		var progs []string
		for _, p := range d.progs.list() {
			progs = append(progs, p.Program)
		}
		line := fmt.Sprintf("%s (%s by %s)", name, count(int(d.count), "denied check", "denied checks"), strings.Join(progs, ", "))
		if tolerate[name] {
			f.tolerated = append(f.tolerated, line)
		} else {
			f.denied = append(f.denied, line)
		}
	}
	allowed := map[string]bool{}
	for _, s := range policy.Syscalls {
		allowed[s] = true
	}
	for _, s := range policy.NoSys {
		allowed[s] = true
	}
	scmpArch, err := seccomp.GetArchFromString(arch)
	if err != nil {
		return f
	}
	seen := map[string]uint64{}
	for _, e := range snap.SyscallErrors {
		// rt_sigreturn exits with the number -1 ("no syscall to restart") and
		// whatever the interrupted context held in the return register, which
		// can look like -EPERM: it is never a refusal.
		if !mntns[nsKey{e.MntNS, e.MntNSID}] || e.Errno != errnoEPERM || e.Nr < 0 {
			continue
		}
		name := syscallName(scmpArch, e.Nr)
		if !allowed[name] {
			seen[name] += e.Count
		}
	}
	for name, n := range seen {
		f.refused = append(f.refused, fmt.Sprintf("%s (%d times)", name, n))
	}
	sort.Strings(f.refused)
	return f
}

// capabilityDenial is how often one capability was denied and to whom.
type capabilityDenial struct {
	count uint64
	progs programCounts
}

func (d *capabilityDenial) countOrZero() uint64 {
	if d == nil {
		return 0
	}
	return d.count
}

// capabilityDenials sums the denied checks of a recording by capability
// (kernel name): those of capabilities it also granted, counted among its
// Capabilities, and those of capabilities it was only denied, which are
// NoiseDeniedTolerated (or, in a recording made before that class, among its
// Capabilities with nothing granted). Programs are those that asked, the
// granted checks' included where a capability was both.
func capabilityDenials(rec profiles.Recording) map[string]*capabilityDenial {
	out := map[string]*capabilityDenial{}
	get := func(name string) *capabilityDenial {
		d := out[name]
		if d == nil {
			d = &capabilityDenial{progs: programCounts{}}
			out[name] = d
		}
		return d
	}
	for _, c := range rec.Capabilities {
		if c.Denied == 0 {
			continue
		}
		d := get(c.Capability)
		d.count += c.Denied
		for _, p := range c.Programs {
			d.progs.add(p.Program, p.Count)
		}
	}
	for _, n := range rec.Noise {
		if n.Class != profiles.NoiseDeniedTolerated || n.Count == 0 {
			continue
		}
		d := get(n.Capability)
		d.count += n.Count
		for _, p := range n.Programs {
			d.progs.add(p.Program, p.Count)
		}
	}
	return out
}

// deniedOnlyCapabilities returns the capabilities (kernel names) a recording
// shows were asked for and never granted, sorted.
func deniedOnlyCapabilities(rec profiles.Recording) []string {
	seen := map[string]bool{}
	for _, c := range rec.Capabilities {
		if c.Granted == 0 && c.Denied > 0 {
			seen[c.Capability] = true
		}
	}
	for _, n := range rec.Noise {
		if n.Class == profiles.NoiseDeniedTolerated {
			seen[n.Capability] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
