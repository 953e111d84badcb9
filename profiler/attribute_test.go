package profiler

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/capprof/capprof/profiles"
	"github.com/capprof/capprof/tracer"
)

const (
	capChown       = 0
	capSetpcap     = 8
	capNetAdmin    = 12
	capSysAdmin    = 21
	capSysResource = 24
)

var containerID = "abc123" + strings.Repeat("0", 58)

func syntheticSnapshot() *tracer.Snapshot {
	vmStack := []string{"cap_capable", "security_vm_enough_memory_mm", "mmap_region", "do_mmap"}
	return &tracer.Snapshot{
		HostMntNS: 1,
		Namespaces: []tracer.Namespace{
			{MntNS: 100, MntNSID: 7, Nodename: "abc123", FirstPID: 10, Cgroup: containerID},
			{MntNS: 200, Nodename: "other", FirstPID: 20, Cgroup: strings.Repeat("f", 64)},
			// The same inode reused by a later container: a different namespace.
			{MntNS: 100, MntNSID: 9, Nodename: "later", FirstPID: 30, Cgroup: strings.Repeat("e", 64)},
			// Another container, or a host-network process, with the same hostname.
			{MntNS: 300, MntNSID: 11, Nodename: "abc123", FirstPID: 40, Cgroup: "docker-" + strings.Repeat("d", 64) + ".scope"},
		},
		CapChecks: []tracer.CapCheck{
			{MntNS: 100, MntNSID: 7, Cap: capNetAdmin, Workload: true, Comm: "ip", Stack: []string{"cap_capable", "security_capable", "ns_capable", "tun_set_iff"}, Count: 3},
			{MntNS: 100, MntNSID: 7, Cap: capNetAdmin, Workload: true, Comm: "ip", Denied: true, Stack: []string{"cap_capable", "security_capable", "ns_capable", "tun_set_iff"}, Count: 1},
			{MntNS: 100, MntNSID: 7, Cap: capSysAdmin, Workload: true, Comm: "sh", Stack: vmStack, Count: 40},
			// The host cannot grant SYS_RESOURCE: denied at two sites, and the service carries on.
			{MntNS: 100, MntNSID: 7, Cap: capSysResource, Workload: true, Comm: "sh", Denied: true, Stack: []string{"cap_capable", "security_capable", "capable", "do_prlimit"}, Count: 2},
			{MntNS: 100, MntNSID: 7, Cap: capSysResource, Workload: true, Comm: "pipes", Denied: true, Stack: []string{"cap_capable", "security_capable", "capable", "pipe_set_size"}, Count: 1},
			{MntNS: 100, MntNSID: 7, Cap: capSetpcap, Workload: false, Comm: "runc:[2:INIT]", Count: 38},
			{MntNS: 200, Cap: capChown, Workload: true, Comm: "elsewhere", Count: 5},
			{MntNS: 100, MntNSID: 9, Cap: capChown, Workload: true, Comm: "reused", Count: 5},
		},
		Syscalls: []tracer.Syscall{
			{MntNS: 100, MntNSID: 7, Nr: 0, Workload: true, Count: 7},    // read
			{MntNS: 100, MntNSID: 7, Nr: 165, Workload: false, Count: 4}, // mount: runc only
			{MntNS: 100, MntNSID: 7, Nr: 0, Workload: false, Count: 2},   // read by runc too: kept as workload only
			{MntNS: 200, Nr: 1, Workload: true, Count: 1},                // write, other container
		},
		SyscallErrors: []tracer.SyscallError{
			{MntNS: 100, MntNSID: 7, Nr: 165, Errno: 1, Count: 2}, // mount refused
			{MntNS: 100, MntNSID: 7, Nr: 0, Errno: 1, Count: 1},   // read EPERM: allowed, so the kernel said it
			{MntNS: 100, MntNSID: 7, Nr: 435, Errno: 38, Count: 1},
			{MntNS: 100, MntNSID: 7, Nr: -1, Errno: 1, Count: 1}, // rt_sigreturn restoring -1
		},
		Devices: []tracer.DeviceAccess{
			{MntNS: 100, MntNSID: 7, Major: 10, Minor: 200, Access: "rw", Workload: true, Comm: "ip", Count: 1},
			{MntNS: 100, MntNSID: 7, Major: 10, Minor: 200, Access: "m", Workload: false, Comm: "runc:[2:INIT]", Count: 1},
			{MntNS: 100, MntNSID: 7, Major: 1, Minor: 3, Access: "w", Workload: true, Comm: "sh", Count: 9},
			{MntNS: 100, MntNSID: 7, Major: 10, Minor: 229, Access: "m", Workload: true, Comm: "mknod", Count: 1},
		},
	}
}

func TestBuildRecording(t *testing.T) {
	snap := syntheticSnapshot()
	out := &runOutcome{containers: []containerIdentity{{ID: containerID, Hostname: "abc123"}}}
	ns := out.mntns(snap)
	if len(ns) != 1 || !ns[nsKey{100, 7}] {
		t.Fatalf("mntns = %v, want only 100/7 (found by cgroup, not by hostname)", ns)
	}
	paths := map[string]string{"c 10:200": "/dev/net/tun", "c 10:229": "/dev/fuse"}
	rec, err := buildRecording(snap, ns, paths, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Capabilities) != 1 || rec.Capabilities[0].Capability != "CAP_NET_ADMIN" {
		t.Fatalf("capabilities = %+v, want only CAP_NET_ADMIN", rec.Capabilities)
	}
	c := rec.Capabilities[0]
	if c.Granted != 3 || c.Denied != 1 || len(c.Programs) != 1 || c.Programs[0].Program != "ip" || c.Programs[0].Count != 4 {
		t.Errorf("CAP_NET_ADMIN use = %+v", c)
	}
	var noise []string
	for _, n := range rec.Noise {
		noise = append(noise, fmt.Sprintf("%s %s %s %d %v", n.Capability, n.Class, n.Site, n.Count, n.Programs))
	}
	wantNoise := []string{
		"CAP_SETPCAP runtime-setup  38 [{runc:[2:INIT] 38}]",
		"CAP_SYS_ADMIN vm-accounting security_vm_enough_memory_mm 40 [{sh 40}]",
		// Only denied: noise per site, not a capability use with nothing granted.
		"CAP_SYS_RESOURCE denied-tolerated do_prlimit 2 [{sh 2}]",
		"CAP_SYS_RESOURCE denied-tolerated pipe_set_size 1 [{pipes 1}]",
	}
	if !slices.Equal(noise, wantNoise) {
		t.Errorf("noise =\n  %s\nwant\n  %s", strings.Join(noise, "\n  "), strings.Join(wantNoise, "\n  "))
	}
	if got := deniedOnlyCapabilities(rec); !slices.Equal(got, []string{"CAP_SYS_RESOURCE"}) {
		t.Errorf("deniedOnlyCapabilities = %v, want CAP_SYS_RESOURCE", got)
	}
	rec.Service = "tun"
	policy, err := profiles.NewPolicy(rec, profiles.PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(policy.CapAdd) != 1 || policy.CapAdd[0].Capability != "NET_ADMIN" {
		t.Errorf("cap_add = %+v, want NET_ADMIN only", policy.CapAdd)
	}
	if got := names(rec.Syscalls); got != "read" {
		t.Errorf("syscalls = %s, want read", got)
	}
	if got := names(rec.RuntimeSyscalls); got != "mount" {
		t.Errorf("runtime syscalls = %s, want mount", got)
	}
	if len(rec.Devices) != 2 {
		t.Fatalf("devices = %+v, want tun and fuse (null is a default device)", rec.Devices)
	}
	if d := rec.Devices[0]; d.Path != "/dev/net/tun" || d.Access != "rw" {
		t.Errorf("tun = %+v, want /dev/net/tun rw (runc's mknod is not the workload's)", d)
	}
	if d := rec.Devices[1]; d.Path != "/dev/fuse" || d.Access != "m" {
		t.Errorf("fuse = %+v, want /dev/fuse m", d)
	}
}

func names(uses []profiles.SyscallUse) string {
	var out []string
	for _, u := range uses {
		out = append(out, u.Name)
	}
	return strings.Join(out, ",")
}

func TestReplayFindings(t *testing.T) {
	snap := syntheticSnapshot()
	ns := map[nsKey]bool{{100, 7}: true}
	progs := func(names ...string) []profiles.ProgramCount {
		var out []profiles.ProgramCount
		for _, n := range names {
			out = append(out, profiles.ProgramCount{Program: n, Count: 1})
		}
		return out
	}
	tolerated := func(capability, site string, n uint64, prog string) profiles.NoiseUse {
		return profiles.NoiseUse{Capability: capability, Class: profiles.NoiseDeniedTolerated, Site: site, Count: n, Programs: progs(prog)}
	}
	// The trace run: SYS_RESOURCE only denied (the host lacks it), at two
	// sites; SETPCAP granted, then denied after setpriv's own drop;
	// DAC_OVERRIDE granted and once denied.
	trace := profiles.Recording{
		Capabilities: []profiles.CapabilityUse{
			{Capability: "CAP_DAC_OVERRIDE", Granted: 4, Denied: 1},
			{Capability: "CAP_SETPCAP", Granted: 1, Denied: 1},
		},
		Noise: []profiles.NoiseUse{
			tolerated("CAP_SYS_RESOURCE", "do_prlimit", 1, "sh"),
			tolerated("CAP_SYS_RESOURCE", "pipe_set_size", 1, "sh"),
			{Capability: "CAP_SYS_ADMIN", Class: profiles.NoiseVMAccounting, Count: 40},
		},
	}
	// The same trace run recorded before denied-tolerated existed.
	oldTrace := profiles.Recording{Capabilities: []profiles.CapabilityUse{
		{Capability: "CAP_DAC_OVERRIDE", Granted: 4, Denied: 1},
		{Capability: "CAP_SETPCAP", Granted: 1, Denied: 1},
		{Capability: "CAP_SYS_RESOURCE", Denied: 2},
	}}
	policy := profiles.Policy{Syscalls: []string{"read"}, NoSys: []string{"clone3"}}
	tests := []struct {
		name     string
		replay   profiles.Recording
		tolerate map[string]bool
		// wantDenied and wantTolerated are the capabilities of the lines.
		wantDenied, wantTolerated []string
	}{
		{
			name: "a grant the override left out is only denied in the replay: denied-tolerated there, a failure here",
			replay: profiles.Recording{
				Capabilities: []profiles.CapabilityUse{{Capability: "CAP_CHOWN", Granted: 3}},
				Noise:        []profiles.NoiseUse{tolerated("CAP_NET_ADMIN", "tun_set_iff", 1, "ip")},
			},
			wantDenied: []string{"CAP_NET_ADMIN"},
		},
		{
			name: "denied as often as in the trace run, at other sites",
			replay: profiles.Recording{Noise: []profiles.NoiseUse{
				tolerated("CAP_SYS_RESOURCE", "do_prlimit", 2, "sh"),
			}},
		},
		{
			name: "denied more often than in the trace run",
			replay: profiles.Recording{Noise: []profiles.NoiseUse{
				tolerated("CAP_SYS_RESOURCE", "do_prlimit", 2, "sh"),
				tolerated("CAP_SYS_RESOURCE", "pipe_set_size", 1, "pipes"),
			}},
			wantDenied: []string{"CAP_SYS_RESOURCE"},
		},
		{
			name: "granted and denied: only more denials than the trace run's count",
			replay: profiles.Recording{Capabilities: []profiles.CapabilityUse{
				{Capability: "CAP_SETPCAP", Granted: 1, Denied: 1},
				{Capability: "CAP_DAC_OVERRIDE", Granted: 2, Denied: 3},
			}},
			wantDenied: []string{"CAP_DAC_OVERRIDE"},
		},
		{
			name: "a granted capability only denied in the replay, with denials in the trace run",
			replay: profiles.Recording{Noise: []profiles.NoiseUse{
				tolerated("CAP_DAC_OVERRIDE", "generic_permission", 2, "nginx"),
			}},
			wantDenied: []string{"CAP_DAC_OVERRIDE"},
		},
		{
			name: "minimization left the capability out on purpose",
			replay: profiles.Recording{Noise: []profiles.NoiseUse{
				tolerated("CAP_NET_ADMIN", "tun_set_iff", 1, "ip"),
				tolerated("CAP_DAC_OVERRIDE", "generic_permission", 2, "nginx"),
			}},
			tolerate:      map[string]bool{"CAP_NET_ADMIN": true},
			wantDenied:    []string{"CAP_DAC_OVERRIDE"},
			wantTolerated: []string{"CAP_NET_ADMIN"},
		},
		{
			name: "other noise in the replay never fails it",
			replay: profiles.Recording{Noise: []profiles.NoiseUse{
				{Capability: "CAP_SYS_ADMIN", Class: profiles.NoiseVMAccounting, Count: 400},
				{Capability: "CAP_SYSLOG", Class: profiles.NoiseNoAudit, Site: "kallsyms_show_value", Count: 1},
			}},
		},
	}
	capsOf := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			name, _, _ := strings.Cut(l, " ")
			out = append(out, name)
		}
		return out
	}
	for _, tt := range tests {
		for _, tr := range []struct {
			name string
			rec  profiles.Recording
		}{{"trace", trace}, {"trace recorded before denied-tolerated", oldTrace}} {
			t.Run(tt.name+"/"+tr.name, func(t *testing.T) {
				f := replayFindings(tr.rec, tt.replay, snap, ns, policy, "amd64", tt.tolerate)
				if got := capsOf(f.denied); !slices.Equal(got, tt.wantDenied) {
					t.Errorf("denied = %q, want %v", f.denied, tt.wantDenied)
				}
				if got := capsOf(f.tolerated); !slices.Equal(got, tt.wantTolerated) {
					t.Errorf("tolerated = %q, want %v", f.tolerated, tt.wantTolerated)
				}
				if len(f.refused) != 1 || !strings.HasPrefix(f.refused[0], "mount") {
					t.Errorf("refused = %v, want mount only (read is allowed, clone3 is ENOSYS)", f.refused)
				}
			})
		}
	}
	// The line says how often and who.
	f := replayFindings(trace, tests[2].replay, snap, ns, policy, "amd64", nil)
	if want := "CAP_SYS_RESOURCE (3 denied checks by pipes, sh)"; len(f.denied) != 1 || f.denied[0] != want {
		t.Errorf("denied = %q, want [%q]", f.denied, want)
	}
	f = replayFindings(trace, tests[0].replay, snap, ns, policy, "amd64", nil)
	if want := "CAP_NET_ADMIN (1 denied check by ip)"; len(f.denied) != 1 || f.denied[0] != want {
		t.Errorf("denied = %q, want [%q]", f.denied, want)
	}
}

// Without cgroup names (no unified hierarchy) the hostname is all there is.
func TestMntNSByHostnameWithoutCgroups(t *testing.T) {
	snap := &tracer.Snapshot{HostMntNS: 1, Namespaces: []tracer.Namespace{
		{MntNS: 100, MntNSID: 7, Nodename: "web"},
		{MntNS: 200, MntNSID: 8, Nodename: "db"},
		{MntNS: 1, MntNSID: 1, Nodename: "web"}, // the host's own
	}}
	out := &runOutcome{containers: []containerIdentity{{ID: containerID, Hostname: "web", MntNS: nsKey{150, 9}}}}
	ns := out.mntns(snap)
	if len(ns) != 2 || !ns[nsKey{100, 7}] || !ns[nsKey{150, 9}] {
		t.Errorf("mntns = %v, want 100/7 by hostname and 150/9 by pid", ns)
	}
}

func TestBuildRecordingCapsetKeeps(t *testing.T) {
	const (
		capSetuid         = 7
		capNetBindService = 10
		capNetRaw         = 13
	)
	ns := map[nsKey]bool{{100, 7}: true}
	capsetStack := []string{"cap_capable", "security_capable", "cap_capset", "security_capset", "__do_sys_capset"}
	setuidStack := []string{"cap_capable", "security_capable", "ns_capable_setid", "__sys_setresuid"}
	tests := []struct {
		name  string
		keeps []tracer.CapsetKeep
		// want maps each needed capability to its granted count and sites.
		want map[string]string
	}{
		{
			name: "dnsmasq keeps NET_ADMIN and NET_RAW across setuid",
			// 0x3080 before setuid, 0x3000 after: the tracer ORs them.
			keeps: []tracer.CapsetKeep{{MntNS: 100, MntNSID: 7, Workload: true, Comm: "dnsmasq", Kept: 1<<capSetuid | 1<<capNetAdmin | 1<<capNetRaw, Count: 2}},
			want: map[string]string{
				"CAP_NET_ADMIN": "2 capset (kept across a change of user)",
				"CAP_NET_RAW":   "2 capset (kept across a change of user)",
				// Already a need from its own check: counted as checked.
				"CAP_SETUID": "4 __sys_setresuid",
			},
		},
		{
			name: "chronyd keeps NET_BIND_SERVICE, two programs agree",
			keeps: []tracer.CapsetKeep{
				{MntNS: 100, MntNSID: 7, Workload: true, Comm: "chronyd", Kept: 1 << capNetBindService, Count: 1},
				{MntNS: 100, MntNSID: 7, Workload: true, Comm: "helper", Kept: 1 << capNetBindService, Count: 2},
			},
			want: map[string]string{
				"CAP_NET_BIND_SERVICE": "3 capset (kept across a change of user)",
				"CAP_SETUID":           "4 __sys_setresuid",
			},
		},
		{
			name: "runtime setup, other namespaces and reused inodes are not the workload's",
			keeps: []tracer.CapsetKeep{
				{MntNS: 100, MntNSID: 7, Comm: "runc:[2:INIT]", Kept: 0x3ffeffffff, Count: 1},
				{MntNS: 200, Workload: true, Comm: "dnsmasq", Kept: 1 << capNetAdmin, Count: 1},
				{MntNS: 100, MntNSID: 9, Workload: true, Comm: "dnsmasq", Kept: 1 << capNetAdmin, Count: 1},
			},
			want: map[string]string{"CAP_SETUID": "4 __sys_setresuid"},
		},
		{
			name:  "SETPCAP kept because the inheritable set grew",
			keeps: []tracer.CapsetKeep{{MntNS: 100, MntNSID: 7, Workload: true, Comm: "setpriv", Kept: 1 << capSetpcap, Count: 1}},
			want: map[string]string{
				"CAP_SETPCAP": "1 capset (kept across a change of user)",
				"CAP_SETUID":  "4 __sys_setresuid",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := &tracer.Snapshot{
				CapChecks: []tracer.CapCheck{
					{MntNS: 100, MntNSID: 7, Cap: capSetuid, Workload: true, Comm: "dnsmasq", Stack: setuidStack, Count: 4},
					{MntNS: 100, MntNSID: 7, Cap: capSetpcap, Workload: true, Comm: "dnsmasq", Stack: capsetStack, Count: 2},
				},
				CapsetKeeps: tt.keeps,
			}
			rec, err := buildRecording(snap, ns, nil, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, c := range rec.Capabilities {
				got[c.Capability] = fmt.Sprintf("%d %s", c.Granted, strings.Join(c.Sites, ","))
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("needs = %v, want %v", got, tt.want)
			}
			if len(rec.Noise) != 1 || rec.Noise[0].Capability != "CAP_SETPCAP" || rec.Noise[0].Class != profiles.NoiseOpportunistic {
				t.Errorf("noise = %+v, want capset's SETPCAP check as opportunistic", rec.Noise)
			}
			rec.Service = "dhcp"
			policy, err := profiles.NewPolicy(rec, profiles.PolicyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var granted, want []string
			for _, g := range policy.CapAdd {
				granted = append(granted, g.Capability)
			}
			for name := range tt.want {
				want = append(want, strings.TrimPrefix(name, "CAP_"))
			}
			slices.Sort(want)
			if !slices.Equal(granted, want) {
				t.Errorf("cap_add = %v, want %v", granted, want)
			}
		})
	}
}

// The runtime's checks for a docker exec (after the workload started) are
// their own noise class; execs and read-only writes of the service's
// namespaces only are recorded, merged by path.
func TestBuildRecordingExecsAndExecSetup(t *testing.T) {
	snap := &tracer.Snapshot{
		HostMntNS: 1,
		Namespaces: []tracer.Namespace{
			{MntNS: 100, MntNSID: 7, Nodename: "abc123", FirstPID: 10, Cgroup: containerID},
		},
		CapChecks: []tracer.CapCheck{
			{MntNS: 100, MntNSID: 7, Cap: capSetpcap, Workload: false, Comm: "runc:[2:INIT]", Count: 3},
			{MntNS: 100, MntNSID: 7, Cap: 6 /* SETGID */, Workload: false, ExecSetup: true, Comm: "runc:[2:INIT]", Stack: []string{"cap_capable", "security_capable", "ns_capable_setid", "__sys_setresgid"}, Count: 2},
		},
		Execs: []tracer.Exec{
			{MntNS: 100, MntNSID: 7, Path: "/usr/bin/mount", Count: 2, CapsGained: 1 << capSysAdmin, IDChanges: 2, UID: 1000, EUIDBefore: 1000, EUIDAfter: 0, EGIDBefore: 1000, EGIDAfter: 1000},
			{MntNS: 100, MntNSID: 7, Path: "/bin/sh", Count: 1},
			{MntNS: 200, MntNSID: 8, Path: "/elsewhere", Count: 1},
		},
		ReadonlyWrites: []tracer.ReadonlyWrite{
			{MntNS: 100, MntNSID: 7, Path: "/sys/kernel/mm/ksm/run", Count: 1},
			{MntNS: 200, MntNSID: 8, Path: "/sys/other", Count: 1},
		},
	}
	rec, err := buildRecording(snap, map[nsKey]bool{{100, 7}: true}, nil, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	var classes []string
	for _, n := range rec.Noise {
		classes = append(classes, n.Capability+" "+string(n.Class))
	}
	if want := []string{"CAP_SETGID exec-setup", "CAP_SETPCAP runtime-setup"}; !slices.Equal(classes, want) {
		t.Errorf("noise %v, want %v", classes, want)
	}
	want := []profiles.ExecUse{
		{Path: "/bin/sh", Count: 1, CapsGained: []string{}},
		{Path: "/usr/bin/mount", Count: 2, CapsGained: []string{"CAP_SYS_ADMIN"}, IDChange: "run by uid 1000: euid 1000 -> 0"},
	}
	if fmt.Sprint(rec.Execs) != fmt.Sprint(want) {
		t.Errorf("execs %+v, want %+v", rec.Execs, want)
	}
	if len(rec.ReadonlyWrites) != 1 || rec.ReadonlyWrites[0] != (profiles.PathCount{Path: "/sys/kernel/mm/ksm/run", Count: 1}) {
		t.Errorf("read-only writes %+v", rec.ReadonlyWrites)
	}
}

// A failed trace run names every capability it was denied, those only
// denied (denied-tolerated noise now) and those also granted.
func TestDeniedHint(t *testing.T) {
	p := &profiler{host: profiles.HostFacts{Arch: "amd64"}}
	ns := map[nsKey]bool{{100, 7}: true}
	hint := p.deniedHint(syntheticSnapshot(), ns)
	if !strings.Contains(hint, "denied CAP_NET_ADMIN, CAP_SYS_RESOURCE in the trace run") || !strings.Contains(hint, "cannot grant them") {
		t.Errorf("hint = %q, want CAP_NET_ADMIN and CAP_SYS_RESOURCE named", hint)
	}
	if hint := p.deniedHint(&tracer.Snapshot{}, ns); hint != "" {
		t.Errorf("hint without denials = %q, want none", hint)
	}
}

func TestNewReadonlyWrites(t *testing.T) {
	trace := []profiles.PathCount{{Path: "/sys/a", Count: 1}, {Path: "/etc/x", Count: 2}}
	replay := []profiles.PathCount{{Path: "/sys/a", Count: 1}, {Path: "/etc/x", Count: 3}, {Path: "/proc/sys/vm/overcommit_memory", Count: 1}}
	got := newReadonlyWrites(trace, replay)
	want := []string{"/etc/x (3 times)", "/proc/sys/vm/overcommit_memory (1 time)"}
	if !slices.Equal(got, want) {
		t.Errorf("newReadonlyWrites = %v, want %v", got, want)
	}
}

// generic_permission asks for DAC_READ_SEARCH before DAC_OVERRIDE to read or
// search: where DAC_OVERRIDE is a need anyway, those checks grant nothing
// more, granted in the trace run or denied in a replay without it.
func TestBuildRecordingSubsumedDacReadSearch(t *testing.T) {
	const (
		capDacOverride   = 1
		capDacReadSearch = 2
	)
	ns := map[nsKey]bool{{100, 7}: true}
	permStack := []string{"cap_capable", "security_capable", "capable_wrt_inode_uidgid", "generic_permission", "inode_permission", "link_path_walk"}
	handleStack := []string{"cap_capable", "security_capable", "capable", "may_decode_fh", "do_handle_open"}
	writeStack := []string{"cap_capable", "security_capable", "capable_wrt_inode_uidgid", "generic_permission", "inode_permission", "may_open"}
	check := func(capNr int, denied, workload bool, stack []string, n uint64) tracer.CapCheck {
		return tracer.CapCheck{MntNS: 100, MntNSID: 7, Cap: capNr, Denied: denied, Workload: workload, Comm: "chronyd", Stack: stack, Count: n}
	}
	tests := []struct {
		name   string
		checks []tracer.CapCheck
		// needs are the needed capabilities; subsumed the count of subsumed
		// DAC_READ_SEARCH checks; denied the capabilities a replay counts as
		// denied.
		needs    []string
		subsumed uint64
		denied   []string
	}{
		{
			name:     "directory search with DAC_OVERRIDE needed for a write",
			checks:   []tracer.CapCheck{check(capDacReadSearch, false, true, permStack, 3), check(capDacOverride, false, true, writeStack, 2)},
			needs:    []string{"CAP_DAC_OVERRIDE"},
			subsumed: 3,
		},
		{
			name:   "directory search alone",
			checks: []tracer.CapCheck{check(capDacReadSearch, false, true, permStack, 3)},
			needs:  []string{"CAP_DAC_READ_SEARCH"},
		},
		{
			name:   "open_by_handle_at: DAC_OVERRIDE does not stand in",
			checks: []tracer.CapCheck{check(capDacReadSearch, false, true, handleStack, 1), check(capDacOverride, false, true, writeStack, 2)},
			needs:  []string{"CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"},
		},
		{
			name:   "DAC_OVERRIDE only in the runtime's set-up",
			checks: []tracer.CapCheck{check(capDacReadSearch, false, true, permStack, 3), check(capDacOverride, false, false, writeStack, 2)},
			needs:  []string{"CAP_DAC_READ_SEARCH"},
		},
		{
			name:     "a replay without DAC_READ_SEARCH: its denials fall back to DAC_OVERRIDE",
			checks:   []tracer.CapCheck{check(capDacReadSearch, true, true, permStack, 3), check(capDacOverride, false, true, permStack, 3), check(capDacOverride, false, true, writeStack, 2)},
			needs:    []string{"CAP_DAC_OVERRIDE"},
			subsumed: 3,
		},
		{
			name:   "a replay without either: both denied",
			checks: []tracer.CapCheck{check(capDacReadSearch, true, true, permStack, 3), check(capDacOverride, true, true, permStack, 3)},
			denied: []string{"CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := buildRecording(&tracer.Snapshot{CapChecks: tt.checks}, ns, nil, "amd64")
			if err != nil {
				t.Fatal(err)
			}
			var needs []string
			for _, c := range rec.Capabilities {
				needs = append(needs, c.Capability)
			}
			if !slices.Equal(needs, tt.needs) {
				t.Errorf("needs = %v, want %v", needs, tt.needs)
			}
			var subsumed uint64
			for _, n := range rec.Noise {
				if n.Class == profiles.NoiseSubsumed {
					if n.Capability != "CAP_DAC_READ_SEARCH" || n.Site != "generic_permission" {
						t.Errorf("subsumed noise %+v, want DAC_READ_SEARCH at generic_permission", n)
					}
					subsumed += n.Count
				}
			}
			if subsumed != tt.subsumed {
				t.Errorf("subsumed checks = %d, want %d (noise %+v)", subsumed, tt.subsumed, rec.Noise)
			}
			if got := slices.Sorted(maps.Keys(capabilityDenials(rec))); !slices.Equal(got, tt.denied) {
				t.Errorf("denied = %v, want %v", got, tt.denied)
			}
		})
	}
}
