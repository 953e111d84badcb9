package profiles

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/moby/sys/capability"
)

// Policy is the least privilege one service needs, decided from a Recording.
// Every list in it is sorted, so emitters produce the same bytes for the same
// recording.
type Policy struct {
	// Service is the compose service name.
	Service string
	// Arch is the architecture the syscall names are valid for ("amd64",
	// "arm64"): the recording's, or the one ForArch translated them to.
	Arch string
	// CapAdd are the capabilities to add after dropping all, sorted by name,
	// written without "CAP_" as compose files write them ("NET_ADMIN").
	CapAdd []Grant
	// Devices are the device nodes to pass through, sorted by host path.
	Devices []DeviceGrant
	// Sysctls are the namespaced sysctls the runtime sets at start
	// (compose sysctls:), by key: what the service changed in the trace run.
	// Its own write of them fails without privileged (/proc/sys is read-only).
	Sysctls map[string]string
	// Syscalls are the system calls the seccomp profile allows: what the
	// workload made plus what the runtime makes under the filter.
	Syscalls []string
	// NoSys are system calls answered ENOSYS instead of EPERM, so that libc
	// and language runtimes fall back to older calls (clone3 to clone,
	// faccessat2 to faccessat) instead of failing: the FallbackSyscalls the
	// workload was not seen making and Arch has.
	NoSys []string
	// Translation says how the system calls were carried from the
	// recording's architecture to Arch; nil for the recording's own (see
	// ForArch).
	Translation *ArchTranslation
	// SeccompPath is the seccomp JSON's path relative to the compose project
	// directory, as security_opt names it.
	SeccompPath string
	// NoNewPrivileges adds no-new-privileges:true to security_opt, and
	// NoNewPrivilegesWhy says why it is set or left off.
	NoNewPrivileges    bool
	NoNewPrivilegesWhy string
	// Substitutions are capabilities the engine rejects by name and the one
	// granted in their place.
	Substitutions []Substitution
	// withoutNoNewPrivs are the capabilities in CapAdd only because
	// no-new-privileges is off (grantWithoutNoNewPrivs).
	withoutNoNewPrivs []string
	// Warnings are what a reviewer must know before committing the policy
	// (io_uring, SYS_MODULE, LSM-denied syscalls), sorted.
	Warnings []string
	// Unverified says why no replay has proved the policy yet ("" once one
	// has): the override then says so in its head comment, so that files
	// left by an interrupted run or written with --no-verify are not taken
	// for proven ones.
	Unverified string
}

// Grant is one capability to add and why.
type Grant struct {
	// Capability is the compose name without "CAP_" ("NET_ADMIN").
	Capability string `json:"capability"`
	// Evidence says who asked and where, e.g. "ip (12 checks): tun_set_iff".
	Evidence string `json:"evidence"`
}

// DeviceGrant is one device node to pass into the container.
type DeviceGrant struct {
	// HostPath and ContainerPath are the node's paths; they are the same
	// for recorded devices.
	HostPath      string `json:"host_path"`
	ContainerPath string `json:"container_path"`
	// Access is the device cgroup access, a subset of "rwm" in that order.
	Access string `json:"access"`
	// Evidence says who opened or created it, e.g. "ip (1 open)" or
	// "mknod (1 mknod)".
	Evidence string `json:"evidence"`
}

// Substitution records a capability the engine rejects by name and the
// capability granted in its place.
type Substitution struct {
	// Wanted is the capability the workload needed ("PERFMON").
	Wanted string `json:"wanted"`
	// Granted is the capability added in its place ("SYS_ADMIN").
	Granted string `json:"granted"`
	// Why names the kernel helper that accepts Granted for Wanted.
	Why string `json:"why"`
}

// PolicyOptions tune NewPolicy to the engine and the caller's choices.
type PolicyOptions struct {
	// SeccompPath is where the seccomp JSON will be written, relative to the
	// compose project directory; empty means "seccomp/<service>.json".
	SeccompPath string
	// EngineRejects lists capabilities the Docker engine refuses by name
	// (Docker 20.10: CAP_PERFMON, CAP_BPF, CAP_CHECKPOINT_RESTORE); each
	// needed one is replaced by CAP_SYS_ADMIN, which the kernel accepts in
	// their place (perfmon_capable, bpf_capable,
	// checkpoint_restore_ns_capable), and recorded as a Substitution.
	EngineRejects []string
	// NoNewPrivileges sets no-new-privileges when not nil. nil decides from
	// the recording: on, unless an executed program gained privilege by its
	// exec (setuid, setgid, file capabilities), which it would withhold. It
	// also decides which runtime syscalls the profile must allow.
	NoNewPrivileges *bool
	// SharedMounts are the service's bind mounts with shared or slave
	// propagation ("/mnt/data (rshared)"), for the report.
	SharedMounts []string
}

// sysAdminCovers maps the capabilities split off CAP_SYS_ADMIN to the kernel
// helper that still accepts CAP_SYS_ADMIN for them.
var sysAdminCovers = map[int]string{
	int(capability.CAP_PERFMON):            "perfmon_capable",
	int(capability.CAP_BPF):                "bpf_capable",
	int(capability.CAP_CHECKPOINT_RESTORE): "checkpoint_restore_ns_capable",
}

// syscallName is what a system call name can look like; it keeps shell or
// JSON metacharacters from a broken recording out of the profile.
var syscallName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// NewPolicy decides the least privilege for one recorded service.
//
// A capability is needed when at least one of its checks was granted during
// the trace run: checks that were only denied were tolerated by the workload,
// and Recording.Noise never grants anything. Devices must have a host path.
func NewPolicy(rec Recording, opts PolicyOptions) (Policy, error) {
	if rec.Service == "" {
		return Policy{}, ErrNoService
	}
	arch, err := ParseArch(rec.Arch)
	if err != nil {
		return Policy{}, fmt.Errorf("service %q: %w", rec.Service, err)
	}
	p := Policy{Service: rec.Service, Arch: arch}

	if p.SeccompPath, err = seccompPath(rec.Service, opts.SeccompPath); err != nil {
		return Policy{}, err
	}
	if err := p.decideCapabilities(rec, opts.EngineRejects); err != nil {
		return Policy{}, fmt.Errorf("service %q: %w", rec.Service, err)
	}
	if err := p.decideDevices(rec); err != nil {
		return Policy{}, fmt.Errorf("service %q: %w", rec.Service, err)
	}
	// Before the syscalls: no-new-privileges decides the runtime's.
	if err := p.decideExecs(rec, opts.NoNewPrivileges, opts.EngineRejects); err != nil {
		return Policy{}, fmt.Errorf("service %q: %w", rec.Service, err)
	}
	if err := p.decideSyscalls(rec); err != nil {
		return Policy{}, fmt.Errorf("service %q: %w", rec.Service, err)
	}
	if err := p.decideSysctls(rec); err != nil {
		return Policy{}, fmt.Errorf("service %q: %w", rec.Service, err)
	}
	p.Warnings = append(p.Warnings, policyWarnings(p)...)
	p.Warnings = append(p.Warnings, recordingWarnings(rec)...)
	p.Warnings = append(p.Warnings, deviceWarnings(p.Devices, rec.Devices)...)
	p.Warnings = append(p.Warnings, propagationWarnings(p, opts.SharedMounts)...)
	sort.Strings(p.Warnings)
	p.Warnings = slices.Compact(p.Warnings)
	return p, nil
}

// seccompPath defaults and checks the profile's path: compose resolves it
// against the project directory, so it must be relative to it (it may lead
// out of it with "..", when the output directory is elsewhere) to keep the
// override working from any clone.
func seccompPath(service, path string) (string, error) {
	if path == "" {
		path = "seccomp/" + service + ".json"
	}
	clean := filepath.ToSlash(filepath.Clean(path))
	if filepath.IsAbs(clean) || clean == "." || clean == ".." {
		return "", fmt.Errorf("%w: %q must be a file path relative to the compose project directory", ErrSeccompPath, path)
	}
	return clean, nil
}

func (p *Policy) decideCapabilities(rec Recording, engineRejects []string) error {
	rejected := make(map[int]bool)
	for _, s := range engineRejects {
		n, err := ParseCap(s)
		if err != nil {
			return fmt.Errorf("engine rejects list: %w", err)
		}
		rejected[n] = true
	}

	evidence := make(map[int][]string)
	for i, use := range rec.Capabilities {
		n, err := ParseCap(use.Capability)
		if err != nil {
			return fmt.Errorf("capabilities[%d]: %w", i, err)
		}
		if use.Granted == 0 {
			continue
		}
		if !knownCap(n) {
			return fmt.Errorf("capabilities[%d]: %w: the engine accepts capabilities by name only, and %s has none in this build", i, ErrUnknownCapability, CapName(n))
		}
		ev := capabilityEvidence(use)
		if rejected[n] {
			helper, ok := sysAdminCovers[n]
			if !ok {
				return fmt.Errorf("capabilities[%d]: %w: %s; upgrade the Docker engine", i, ErrNoSubstitute, CapName(n))
			}
			sysAdmin := int(capability.CAP_SYS_ADMIN)
			p.Substitutions = append(p.Substitutions, Substitution{
				Wanted:  composeCapName(n),
				Granted: composeCapName(sysAdmin),
				Why: fmt.Sprintf("the Docker engine rejects %s by name; the kernel's %s() accepts CAP_SYS_ADMIN in its place",
					CapName(n), helper),
			})
			evidence[sysAdmin] = append(evidence[sysAdmin], "for "+composeCapName(n)+": "+ev)
			continue
		}
		evidence[n] = append(evidence[n], ev)
	}

	for n, evs := range evidence {
		sort.Strings(evs)
		p.CapAdd = append(p.CapAdd, Grant{Capability: composeCapName(n), Evidence: strings.Join(evs, "; ")})
	}
	sort.Slice(p.CapAdd, func(i, j int) bool { return p.CapAdd[i].Capability < p.CapAdd[j].Capability })
	sort.Slice(p.Substitutions, func(i, j int) bool { return p.Substitutions[i].Wanted < p.Substitutions[j].Wanted })
	return nil
}

// capabilityEvidence renders "ip (12 checks), tunctl (1 check): tun_set_iff".
func capabilityEvidence(use CapabilityUse) string {
	ev := programsEvidence(use.Programs, "check", "checks")
	if ev == "" {
		ev = plural(use.Granted, "granted check", "granted checks")
	}
	if len(use.Sites) > 0 {
		sites := slices.Clone(use.Sites)
		sort.Strings(sites)
		ev += ": " + strings.Join(slices.Compact(sites), ", ")
	}
	return ev
}

func programsEvidence(programs []ProgramCount, one, many string) string {
	progs := slices.Clone(programs)
	sortPrograms(progs)
	parts := make([]string, 0, len(progs))
	for _, pc := range progs {
		parts = append(parts, pc.Program+" ("+plural(pc.Count, one, many)+")")
	}
	return strings.Join(parts, ", ")
}

func plural(n uint64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatUint(n, 10) + " " + many
}

func (p *Policy) decideDevices(rec Recording) error {
	byPath := make(map[string]*DeviceGrant)
	programs := make(map[string][]ProgramCount)
	// used is the access the recording names for each path, with "?" for
	// a use it does not say the kind of (no access recorded).
	used := make(map[string]string)
	for i, d := range rec.Devices {
		if d.Path == "" {
			return fmt.Errorf("devices[%d] (%s %d:%d): %w; create the node on the host or pass it with a path", i, d.Type, d.Major, d.Minor, ErrDeviceNoHostPath)
		}
		access, err := normalizeAccess(d.Access)
		if err != nil {
			return fmt.Errorf("devices[%d] (%s): %w", i, d.Path, err)
		}
		g, ok := byPath[d.Path]
		if !ok {
			g = &DeviceGrant{HostPath: d.Path, ContainerPath: d.Path}
			byPath[d.Path] = g
		}
		g.Access, _ = normalizeAccess(g.Access + access)
		programs[d.Path] = mergePrograms(programs[d.Path], d.Programs)
		if d.Access == "" {
			used[d.Path] += "?"
		}
		used[d.Path] += d.Access
	}
	for path, g := range byPath {
		one, many := deviceUseWords(used[path])
		g.Evidence = programsEvidence(programs[path], one, many)
		p.Devices = append(p.Devices, *g)
	}
	sort.Slice(p.Devices, func(i, j int) bool { return p.Devices[i].HostPath < p.Devices[j].HostPath })
	return nil
}

// deviceUseWords names what the programs did with a device node, by the
// access they used ("rwm", "?" for unknown): "m" alone is creating it with
// mknod, "r" and "w" alone are opens.
func deviceUseWords(access string) (one, many string) {
	switch {
	case strings.Contains(access, "?"):
		return "use", "uses"
	case !strings.ContainsAny(access, "rw"):
		return "mknod", "mknods"
	case !strings.Contains(access, "m"):
		return "open", "opens"
	}
	return "open or mknod", "opens or mknods"
}

// normalizeAccess orders and deduplicates a cgroup access string. An empty
// one (the tracer saw the node used but not how) becomes "rwm", what Docker
// itself assumes for a device without permissions.
func normalizeAccess(access string) (string, error) {
	if access == "" {
		return "rwm", nil
	}
	var r, w, m bool
	for _, c := range access {
		switch c {
		case 'r':
			r = true
		case 'w':
			w = true
		case 'm':
			m = true
		default:
			return "", fmt.Errorf("%w: %q is not a subset of \"rwm\"", ErrDeviceAccess, access)
		}
	}
	var b strings.Builder
	for _, f := range []struct {
		set bool
		c   byte
	}{{r, 'r'}, {w, 'w'}, {m, 'm'}} {
		if f.set {
			b.WriteByte(f.c)
		}
	}
	return b.String(), nil
}

func mergePrograms(a, b []ProgramCount) []ProgramCount {
	counts := make(map[string]uint64)
	for _, pc := range append(slices.Clone(a), b...) {
		counts[pc.Program] += pc.Count
	}
	out := make([]ProgramCount, 0, len(counts))
	for prog, n := range counts {
		out = append(out, ProgramCount{Program: prog, Count: n})
	}
	sortPrograms(out)
	return out
}

func sortPrograms(ps []ProgramCount) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Program < ps[j].Program })
}

func (p *Policy) decideSyscalls(rec Recording) error {
	set := make(map[string]bool)
	for i, s := range rec.Syscalls {
		if !syscallName.MatchString(s.Name) {
			return fmt.Errorf("syscalls[%d]: %w: %q", i, ErrInvalidSyscall, s.Name)
		}
		set[s.Name] = true
	}
	for _, s := range RuntimeSyscalls(p.NoNewPrivileges) {
		set[s] = true
	}
	for _, s := range ArchRuntimeSyscalls[p.Arch] {
		set[s] = true
	}
	for s := range set {
		p.Syscalls = append(p.Syscalls, s)
	}
	sort.Strings(p.Syscalls)
	nosys, err := fallbackSyscalls(p.Arch, set)
	if err != nil {
		return err
	}
	p.NoSys = nosys
	sort.Strings(p.NoSys)
	return nil
}

// sysctlKeyPattern is what a namespaced sysctl key can look like.
var sysctlKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]*$`)

func (p *Policy) decideSysctls(rec Recording) error {
	for i, c := range rec.Sysctls {
		if !sysctlKeyPattern.MatchString(c.Key) {
			return fmt.Errorf("sysctls[%d]: %w: %q", i, ErrInvalidSysctl, c.Key)
		}
		if strings.ContainsFunc(c.Value, func(r rune) bool { return unicode.IsControl(r) }) {
			return fmt.Errorf("sysctls[%d] (%s): %w: value %q", i, c.Key, ErrInvalidSysctl, c.Value)
		}
		if p.Sysctls == nil {
			p.Sysctls = map[string]string{}
		}
		p.Sysctls[c.Key] = c.Value
	}
	return nil
}

// SysctlKeys returns the keys of Sysctls, sorted.
func (p Policy) SysctlKeys() []string {
	keys := make([]string, 0, len(p.Sysctls))
	for k := range p.Sysctls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sysctlWarning says that the service's own sysctl writes will fail; ""
// without sysctls. The override says it at its sysctls: key.
func sysctlWarning(p Policy) string {
	keys := p.SysctlKeys()
	if len(keys) == 0 {
		return ""
	}
	return "sysctls " + strings.Join(keys, ", ") + " are now set by the runtime at start: /proc/sys is read-only without privileged, so the service's own write of them will fail and its start script must tolerate that"
}

// policyWarnings lists what a reviewer must decide that no trace can.
func policyWarnings(p Policy) []string {
	var out []string
	has := func(names ...string) []string {
		var found []string
		for _, n := range names {
			if _, ok := slices.BinarySearch(p.Syscalls, n); ok {
				found = append(found, n)
			}
		}
		return found
	}
	if found := has("io_uring_enter", "io_uring_register", "io_uring_setup"); len(found) > 0 {
		out = append(out, "io_uring ("+strings.Join(found, ", ")+") is allowed: operations submitted through a ring bypass per-syscall seccomp filtering")
	}
	if found := has("mount", "fsmount", "move_mount"); len(found) > 0 {
		out = append(out, "on hosts with AppArmor the docker-default profile denies mounting ("+strings.Join(found, ", ")+") even with the capability, where privileged ran unconfined: there, add to the service's security_opt `apparmor=unconfined`, or `apparmor=PROFILE` with a profile of your own that allows the mount")
	}
	if found := has("ptrace"); len(found) > 0 {
		out = append(out, "on hosts with AppArmor the docker-default profile allows ptrace only between processes under docker-default: to trace anything else add `apparmor=unconfined` or a profile of your own to security_opt")
	}
	if w := sysctlWarning(p); w != "" {
		out = append(out, w)
	}
	for _, g := range p.CapAdd {
		if g.Capability == "SYS_MODULE" {
			out = append(out, "SYS_MODULE is granted: load the module on the host instead (modprobe NAME, and list it in /etc/modules-load.d/ to load it at boot) and drop the grant; a module loaded from the container must match the host's kernel anyway")
		}
	}
	sort.Strings(out)
	return out
}

// Summary is the part of the policy a report shows.
func (p Policy) Summary() PolicySummary {
	return PolicySummary{
		Arch:               p.Arch,
		CapAdd:             slices.Clone(p.CapAdd),
		Devices:            slices.Clone(p.Devices),
		Sysctls:            maps.Clone(p.Sysctls),
		SyscallsAllowed:    len(p.Syscalls),
		NoSys:              slices.Clone(p.NoSys),
		SeccompPath:        p.SeccompPath,
		NoNewPrivileges:    p.NoNewPrivileges,
		NoNewPrivilegesWhy: p.NoNewPrivilegesWhy,
		Substitutions:      slices.Clone(p.Substitutions),
		Warnings:           slices.Clone(p.Warnings),
	}
}

// Restrict returns the policy with only the grants named in keep: each a
// capability as CapAdd writes it ("NET_ADMIN") or a device's host path.
// Everything else, the syscall list included, stays as it is. Minimization
// replays such restricted policies.
func (p Policy) Restrict(keep []string) Policy {
	out := p
	out.CapAdd = nil
	for _, g := range p.CapAdd {
		if slices.Contains(keep, g.Capability) {
			out.CapAdd = append(out.CapAdd, g)
		}
	}
	out.Devices = nil
	for _, d := range p.Devices {
		if slices.Contains(keep, d.HostPath) {
			out.Devices = append(out.Devices, d)
		}
	}
	out.Substitutions = nil
	for _, s := range p.Substitutions {
		if slices.Contains(keep, strings.TrimPrefix(s.Granted, "CAP_")) {
			out.Substitutions = append(out.Substitutions, s)
		}
	}
	return out
}
