package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"unicode/utf8"
)

// Report is report.json: what a profile run found and decided, per service,
// with the host it ran on. It carries no timestamps, so the same run gives
// the same bytes.
type Report struct {
	// Tool is always "capprof".
	Tool string `json:"tool"`
	// Host describes where the trace run happened.
	Host HostFacts `json:"host"`
	// Services are sorted by service name.
	Services []ServiceReport `json:"services"`
}

// HostFacts are the facts about the trace host a reader needs to judge
// whether a recording applies to theirs.
type HostFacts struct {
	// Kernel is the host's kernel release (uname -r).
	Kernel string `json:"kernel"`
	// Arch is the host's architecture; recordings are valid for it only.
	Arch string `json:"arch"`
	// DockerVersion is the engine's version; it decides EngineRejects.
	DockerVersion string `json:"docker_version"`
	// Runtime is the OCI runtime and its version ("runc 1.1.12").
	Runtime string `json:"runtime"`
	// NotGranted lists what the trace run could not give the service, each
	// with why (e.g. "CAP_BPF: rejected by the engine"), sorted.
	NotGranted []string `json:"not_granted,omitempty"`
	// Notes are remarks in the order the profiler made them.
	Notes []string `json:"notes,omitempty"`
}

// ServiceReport is one service: what was recorded, what was decided, and
// whether a replay under the decision worked.
type ServiceReport struct {
	// Recording carries capabilities with evidence, noise with its class,
	// syscalls, devices, the image, its id and the arch.
	Recording
	// Policy summarises the decision.
	Policy PolicySummary `json:"policy"`
	// Verified is true only when a replay under the override passed: false
	// while the replay runs (an interrupted run leaves it so), after a
	// failed one and with --no-verify. JSON sets it from Verification.
	Verified bool `json:"verified"`
	// Verification is the replay's result, when one ran.
	Verification *Verification `json:"verification,omitempty"`
	// Minimization is what replays proved unneeded, when minimization ran.
	Minimization *Minimization `json:"minimization,omitempty"`
	// Invocation is how the service was profiled, so that a later
	// `capprof minimize` can replay the same workload.
	Invocation *Invocation `json:"invocation,omitempty"`
}

// Minimization records the replays that removed grants the trace run saw
// but the service does not need (a check that stopped at the first
// capability that passed, a chmod that happened to need FOWNER …).
type Minimization struct {
	// Replays counts the replays minimization took.
	Replays int `json:"replays"`
	// Removed are the grants dropped, each with the replay that proved it.
	Removed []RemovedGrant `json:"removed"`
	// Trials are all replays in the order they ran.
	Trials []Trial `json:"trials"`
}

// RemovedGrant is one grant minimization dropped.
type RemovedGrant struct {
	// Grant is a capability name without CAP_ or a device's host path.
	Grant string `json:"grant"`
	// ProvedBy is the number of the passing replay that left it out.
	ProvedBy int `json:"proved_by"`
	// ReplacedBy names the weaker capability granted in its place, when the
	// grant was replaced rather than dropped.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// Trial is one replay of the workload with some grants left out, or
// replaced by weaker ones.
type Trial struct {
	// Number counts replays from 1.
	Number int `json:"number"`
	// Without lists the grants left out in this replay.
	Without []string `json:"without"`
	// Instead lists the weaker grants given in place of those in Without
	// (DAC_READ_SEARCH for DAC_OVERRIDE); empty when they were just left out.
	Instead []string `json:"instead,omitempty"`
	// Passed says whether the workload passed with no denial.
	Passed bool `json:"passed"`
	// Why says what failed, when it did.
	Why string `json:"why,omitempty"`
}

// Invocation is the command line of a profile, with paths relative to the
// compose project directory.
type Invocation struct {
	ComposeFiles []string `json:"compose_files"`
	Service      string   `json:"service"`
	Exec         []string `json:"exec,omitempty"`
	Run          []string `json:"run,omitempty"`
	Duration     string   `json:"duration,omitempty"`
	Timeout      string   `json:"timeout"`
	StartupGrace string   `json:"startup_grace"`
	// NoNewPrivileges is the no-new-privileges choice given on the command
	// line; absent when capprof decided from the trace run.
	NoNewPrivileges *bool `json:"no_new_privileges,omitempty"`
	// Arch is --arch: the architecture a second seccomp profile was
	// translated to, when it is not the recording's.
	Arch string `json:"arch,omitempty"`
	// TraceEnd is how the service ended the trace run: "running" or
	// "exited N"; replays must end the same way.
	TraceEnd string `json:"trace_end"`
}

// PolicySummary is the part of a Policy a report shows; the full syscall
// list is in the seccomp profile it names.
type PolicySummary struct {
	// Arch is the architecture the seccomp profile is valid for: the
	// recording's, where the replay ran.
	Arch string `json:"arch"`
	// CapAdd and Devices are the grants with their evidence.
	CapAdd  []Grant       `json:"cap_add"`
	Devices []DeviceGrant `json:"devices"`
	// Sysctls are the namespaced sysctls the override sets (compose
	// sysctls:); the service's own write of them now fails.
	Sysctls map[string]string `json:"sysctls,omitempty"`
	// SyscallsAllowed counts the seccomp profile's allowed system calls.
	SyscallsAllowed int `json:"syscalls_allowed"`
	// NoSys are the system calls answered ENOSYS.
	NoSys []string `json:"enosys,omitempty"`
	// SeccompPath is the profile's path relative to the project directory.
	SeccompPath string `json:"seccomp_path"`
	// NoNewPrivileges says whether the override sets no-new-privileges,
	// and NoNewPrivilegesWhy why.
	NoNewPrivileges    bool   `json:"no_new_privileges"`
	NoNewPrivilegesWhy string `json:"no_new_privileges_why,omitempty"`
	// Substitutions and Warnings are copied from the Policy.
	Substitutions []Substitution `json:"substitutions,omitempty"`
	Warnings      []string       `json:"warnings,omitempty"`
	// ArchProfile is the seccomp profile translated to another architecture
	// (--arch), written beside the verified one and not replayed.
	ArchProfile *ArchProfile `json:"arch_profile,omitempty"`
}

// Verification is the result of running the service, and its exec'd
// commands, under the generated override.
type Verification struct {
	// Passed is true when every command behaved as in the trace run.
	Passed bool `json:"passed"`
	// Message says in one sentence what happened.
	Message string `json:"message"`
	// Commands are in the order they ran.
	Commands []CommandResult `json:"commands"`
	// DeniedCapabilities, RefusedSyscalls and MissingDevices are what the
	// replay was refused, sorted.
	DeniedCapabilities []string `json:"denied_capabilities,omitempty"`
	RefusedSyscalls    []string `json:"refused_syscalls,omitempty"`
	MissingDevices     []string `json:"missing_devices,omitempty"`
	// ToleratedDenials are denied checks of capabilities that minimization
	// proved the service does without: it makes the check and carries on.
	ToleratedDenials []string `json:"tolerated_denials,omitempty"`
	// ReadonlyWrites are paths whose write opens failed with EROFS under
	// the override more often than in the trace run ("/sys/... (2 times)"):
	// the workload passed without them, but privileged allowed them.
	ReadonlyWrites []string `json:"readonly_writes,omitempty"`
}

// CommandResult is one command of a verification.
type CommandResult struct {
	// Where is "exec" (docker exec into the service) or "run" (a command on
	// the host, such as curl against a published port).
	Where string `json:"where"`
	// Command is the command line as the user would type it.
	Command string `json:"command"`
	// ExitCode is the command's exit status: 124 when it timed out, as
	// with timeout(1).
	ExitCode int `json:"exit_code"`
	// TimedOut says the command was stopped at the workload's timeout.
	TimedOut bool `json:"timed_out,omitempty"`
	// Output is the tail of the command's output, kept only when the
	// verification failed.
	Output string `json:"output,omitempty"`
}

// OutputTailBytes bounds CommandResult.Output in the report.
const OutputTailBytes = 2048

// NewServiceReport joins a recording, the policy decided from it and an
// optional verification.
func NewServiceReport(rec Recording, p Policy, v *Verification) ServiceReport {
	return ServiceReport{Recording: rec, Policy: p.Summary(), Verification: v}
}

// JSON renders the report indented by two spaces with a trailing newline.
// Sets are sorted and nil lists written as [], on a copy: the report itself
// is left as it was.
func (r Report) JSON() ([]byte, error) {
	out := Report{Tool: r.Tool, Host: r.Host}
	if out.Tool == "" {
		out.Tool = "capprof"
	}
	out.Host.NotGranted = sortedStrings(r.Host.NotGranted)
	out.Host.Notes = slices.Clone(r.Host.Notes)
	out.Services = make([]ServiceReport, 0, len(r.Services))
	for _, s := range r.Services {
		out.Services = append(out.Services, normalizeServiceReport(s))
	}
	sort.SliceStable(out.Services, func(i, j int) bool { return out.Services[i].Service < out.Services[j].Service })

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("encode report: %w", err)
	}
	return buf.Bytes(), nil
}

func normalizeServiceReport(s ServiceReport) ServiceReport {
	// Start from a copy, so that every field is carried, and replace the
	// lists that are sorted or trimmed with sorted copies of their own.
	out := s
	out.Verified = s.Verification != nil && s.Verification.Passed
	rec := s.Recording
	out.Capabilities = make([]CapabilityUse, 0, len(rec.Capabilities))
	out.Noise = make([]NoiseUse, 0, len(rec.Noise))
	out.Syscalls = sortedSyscalls(rec.Syscalls)
	out.Devices = make([]DeviceUse, 0, len(rec.Devices))
	out.RuntimeSyscalls = nil
	if len(rec.RuntimeSyscalls) > 0 {
		out.RuntimeSyscalls = sortedSyscalls(rec.RuntimeSyscalls)
	}
	out.Sysctls = nil
	if len(rec.Sysctls) > 0 {
		out.Sysctls = slices.Clone(rec.Sysctls)
		sort.SliceStable(out.Sysctls, func(i, j int) bool { return out.Sysctls[i].Key < out.Sysctls[j].Key })
	}
	for _, c := range rec.Capabilities {
		c.Programs = sortedPrograms(c.Programs)
		if c.Sites = sortedStrings(c.Sites); len(c.Sites) == 0 {
			c.Sites = nil
		}
		out.Capabilities = append(out.Capabilities, c)
	}
	sort.SliceStable(out.Capabilities, func(i, j int) bool {
		return out.Capabilities[i].Capability < out.Capabilities[j].Capability
	})
	for _, n := range rec.Noise {
		n.Programs = sortedPrograms(n.Programs)
		out.Noise = append(out.Noise, n)
	}
	sort.SliceStable(out.Noise, func(i, j int) bool {
		a, b := out.Noise[i], out.Noise[j]
		if a.Capability != b.Capability {
			return a.Capability < b.Capability
		}
		if a.Class != b.Class {
			return a.Class < b.Class
		}
		return a.Site < b.Site
	})
	for _, d := range rec.Devices {
		d.Programs = sortedPrograms(d.Programs)
		out.Devices = append(out.Devices, d)
	}
	sort.SliceStable(out.Devices, func(i, j int) bool {
		a, b := out.Devices[i], out.Devices[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		if a.Major != b.Major {
			return a.Major < b.Major
		}
		return a.Minor < b.Minor
	})

	p := s.Policy
	out.Policy.CapAdd = append([]Grant{}, p.CapAdd...)
	out.Policy.Devices = append([]DeviceGrant{}, p.Devices...)
	out.Policy.NoSys = sortedStrings(p.NoSys)
	out.Policy.Warnings = sortedStrings(p.Warnings)
	out.Policy.Substitutions = slices.Clone(p.Substitutions)
	out.Policy.Sysctls = nil
	if len(p.Sysctls) > 0 {
		out.Policy.Sysctls = maps.Clone(p.Sysctls)
	}
	sort.SliceStable(out.Policy.CapAdd, func(i, j int) bool { return out.Policy.CapAdd[i].Capability < out.Policy.CapAdd[j].Capability })
	sort.SliceStable(out.Policy.Devices, func(i, j int) bool { return out.Policy.Devices[i].HostPath < out.Policy.Devices[j].HostPath })
	sort.SliceStable(out.Policy.Substitutions, func(i, j int) bool { return out.Policy.Substitutions[i].Wanted < out.Policy.Substitutions[j].Wanted })
	out.Policy.ArchProfile = p.ArchProfile.normalized()

	if v := s.Verification; v != nil {
		vc := *v
		vc.Commands = make([]CommandResult, 0, len(v.Commands))
		for _, c := range v.Commands {
			if v.Passed {
				c.Output = ""
			} else {
				c.Output = tail(c.Output, OutputTailBytes)
			}
			vc.Commands = append(vc.Commands, c)
		}
		vc.DeniedCapabilities = sortedStrings(v.DeniedCapabilities)
		vc.RefusedSyscalls = sortedStrings(v.RefusedSyscalls)
		vc.MissingDevices = sortedStrings(v.MissingDevices)
		vc.ToleratedDenials = sortedStrings(v.ToleratedDenials)
		vc.ReadonlyWrites = sortedStrings(v.ReadonlyWrites)
		out.Verification = &vc
	}
	if m := s.Minimization; m != nil {
		mc := *m
		mc.Removed = slices.Clone(m.Removed)
		sort.SliceStable(mc.Removed, func(i, j int) bool { return mc.Removed[i].Grant < mc.Removed[j].Grant })
		if mc.Removed == nil {
			mc.Removed = []RemovedGrant{}
		}
		out.Minimization = &mc
	}
	if in := s.Invocation; in != nil {
		ic := *in
		out.Invocation = &ic
	}
	return out
}

// tail keeps the last n bytes of s, cut at a rune boundary.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	for len(s) > 0 && !utf8.RuneStart(s[0]) {
		s = s[1:]
	}
	return s
}

func sortedStrings(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Clone(in)
	sort.Strings(out)
	return slices.Compact(out)
}

func sortedSyscalls(in []SyscallUse) []SyscallUse {
	out := append([]SyscallUse{}, in...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func sortedPrograms(in []ProgramCount) []ProgramCount {
	out := append([]ProgramCount{}, in...)
	sortPrograms(out)
	return out
}
