package profiles

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
)

// capData builds a security.capability value of the given revision.
func capData(rev uint32, effective bool, permitted, inheritable uint64, rootID uint32) []byte {
	magic := rev
	if effective {
		magic |= vfsCapFlagsEff
	}
	var b []byte
	put := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	put(magic)
	switch rev {
	case vfsCapRevision1:
		put(uint32(permitted))
		put(uint32(inheritable))
	default:
		put(uint32(permitted))
		put(uint32(inheritable))
		put(uint32(permitted >> 32))
		put(uint32(inheritable >> 32))
		if rev == vfsCapRevision3 {
			put(rootID)
		}
	}
	return b
}

func TestParseFileCaps(t *testing.T) {
	const netRaw, netBind, chown, bpf = 1 << 13, 1 << 10, 1 << 0, 1 << 39
	for _, tc := range []struct {
		name string
		data []byte
		want FileCaps
		str  string
	}{
		{"setcap cap_net_raw+ep (revision 2)", capData(vfsCapRevision2, true, netRaw, 0, 0), FileCaps{Permitted: netRaw, Effective: true, RootID: -1}, "cap_net_raw=ep"},
		{"revision 1", capData(vfsCapRevision1, false, netBind, 0, 0), FileCaps{Permitted: netBind, RootID: -1}, "cap_net_bind_service=p"},
		{"revision 3 with a namespaced root", capData(vfsCapRevision3, true, netBind|chown, chown, 100000), FileCaps{Permitted: netBind | chown, Inheritable: chown, Effective: true, RootID: 100000}, "cap_chown=eip cap_net_bind_service=ep"},
		{"a capability in the high word", capData(vfsCapRevision2, true, bpf, 0, 0), FileCaps{Permitted: bpf, Effective: true, RootID: -1}, "cap_bpf=ep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFileCaps(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if s := got.String(); s != tc.str {
				t.Errorf("String() = %q, want %q", s, tc.str)
			}
		})
	}
	for _, bad := range [][]byte{nil, {1, 2}, capData(vfsCapRevision2, true, 1, 0, 0)[:12], append(capData(vfsCapRevision1, false, 1, 0, 0), 0), capData(0x04000000, false, 1, 0, 0)} {
		if _, err := ParseFileCaps(bad); !errors.Is(err, ErrFileCaps) {
			t.Errorf("ParseFileCaps(%x) = %v, want ErrFileCaps", bad, err)
		}
	}
}

// pingRecording runs ping, whose file carries cap_net_raw=ep, as root:
// the exec gains nothing, yet without NET_RAW in the bounding set the
// kernel refuses it.
func pingRecording() Recording {
	return Recording{
		Service:  "pinger",
		Arch:     "amd64",
		Syscalls: []SyscallUse{{Name: "socket", Count: 1}, {Name: "execve", Count: 1}},
		Execs: []ExecUse{
			{Path: "/bin/sh", Count: 1, File: &ExecFile{Mode: "0755"}},
			{Path: "/usr/bin/ping", Count: 3, File: &ExecFile{Mode: "0755", FileCaps: "cap_net_raw=ep", CapsPermitted: []string{"CAP_NET_RAW"}, CapsEffective: true}},
		},
	}
}

func TestFileCapabilitiesAreGranted(t *testing.T) {
	p, err := NewPolicy(pingRecording(), PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.CapAdd) != 1 || p.CapAdd[0].Capability != "NET_RAW" || !strings.Contains(p.CapAdd[0].Evidence, "/usr/bin/ping (cap_net_raw=ep)") {
		t.Errorf("cap_add %+v, want NET_RAW for ping's file capabilities", p.CapAdd)
	}
	if !p.NoNewPrivileges {
		t.Errorf("no-new-privileges off (%s); root's exec of ping gained nothing", p.NoNewPrivilegesWhy)
	}

	// Without the effective bit the program raises them itself: its checks show
	// whether it needs them, the file alone does not.
	rec := pingRecording()
	rec.Execs[1].File.CapsEffective = false
	if p, err = NewPolicy(rec, PolicyOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(p.CapAdd) != 0 {
		t.Errorf("cap_add %+v for a file without the effective bit, want none", p.CapAdd)
	}

	// A capability the workload also checked keeps both pieces of evidence, once.
	rec = pingRecording()
	rec.Capabilities = []CapabilityUse{{Capability: "CAP_NET_RAW", Granted: 2, Programs: []ProgramCount{{Program: "ping", Count: 2}}, Sites: []string{"inet_create"}}}
	if p, err = NewPolicy(rec, PolicyOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(p.CapAdd) != 1 || !strings.Contains(p.CapAdd[0].Evidence, "inet_create") || strings.Count(p.CapAdd[0].Evidence, "/usr/bin/ping") != 1 {
		t.Errorf("cap_add %+v, want one NET_RAW with the check's and the file's evidence", p.CapAdd)
	}

	// A file capability the engine cannot name cannot be granted: say the exec fails.
	rec = pingRecording()
	rec.Execs[1].File.CapsPermitted = []string{"CAP_BPF"}
	rec.Execs[1].File.FileCaps = "cap_bpf=ep"
	if p, err = NewPolicy(rec, PolicyOptions{EngineRejects: []string{"CAP_BPF"}}); err != nil {
		t.Fatal(err)
	}
	if len(p.CapAdd) != 0 || !slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "CAP_BPF") && strings.Contains(w, "EPERM") }) {
		t.Errorf("cap_add %+v, warnings %q; want no grant and a warning that the exec fails", p.CapAdd, p.Warnings)
	}
}

func TestNoNewPrivilegesFollowsWhatExecsGained(t *testing.T) {
	suid := func() Recording {
		rec := pingRecording()
		rec.Execs = append(rec.Execs, ExecUse{Path: "/usr/bin/su", Count: 1, IDChange: "run by uid 1000: euid 1000 -> 0", CapsGained: []string{"CAP_SETUID"}, File: &ExecFile{Mode: "4755", Setuid: true}})
		return rec
	}
	fcap := func() Recording {
		rec := pingRecording()
		rec.Execs[1].CapsGained = []string{"CAP_NET_RAW"} // run by a user: the file capability raised it
		return rec
	}
	for _, tc := range []struct {
		name     string
		rec      Recording
		choice   *bool
		want     bool
		why      string
		warnings bool
	}{
		{"nothing gained: set", pingRecording(), nil, true, "no executed program changed its ids or gained a granted capability", false},
		{"setuid exec by a user: left off", suid(), nil, false, "/usr/bin/su (run by uid 1000: euid 1000 -> 0", false},
		{"file capability raised by a user's exec: left off", fcap(), nil, false, "/usr/bin/ping (gained CAP_NET_RAW; file capabilities cap_net_raw=ep)", false},
		{"asked on despite a setuid exec: set, with a warning", suid(), boolPtr(true), true, "set as asked", true},
		{"asked off: left off", pingRecording(), boolPtr(false), false, "left off as asked", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPolicy(tc.rec, PolicyOptions{NoNewPrivileges: tc.choice})
			if err != nil {
				t.Fatal(err)
			}
			if p.NoNewPrivileges != tc.want || !strings.Contains(p.NoNewPrivilegesWhy, tc.why) {
				t.Errorf("no-new-privileges %v (%q), want %v (%q)", p.NoNewPrivileges, p.NoNewPrivilegesWhy, tc.want, tc.why)
			}
			warned := slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "no-new-privileges is set as asked") })
			if warned != tc.warnings {
				t.Errorf("warnings %q, want a no-new-privileges warning: %v", p.Warnings, tc.warnings)
			}
			// The runtime's syscalls follow the choice: without
			// no-new-privileges runc installs the filter before it changes ids.
			want := RuntimeSyscalls(tc.want)
			for _, s := range want {
				if _, ok := slices.BinarySearch(p.Syscalls, s); !ok {
					t.Errorf("runtime syscall %s missing with no-new-privileges %v", s, tc.want)
				}
			}
		})
	}
}

func TestRecordingWarnings(t *testing.T) {
	rec := Recording{
		Service:  "loader",
		Arch:     "amd64",
		Syscalls: []SyscallUse{{Name: "finit_module", Count: 2}, {Name: "read", Count: 9}},
		Execs:    []ExecUse{{Path: "/usr/sbin/modprobe", Count: 1}},
		ReadonlyWrites: []PathCount{
			{Path: "/sys/class/net/eth0/queues/rx-0/rps_cpus", Count: 2},
			{Path: "/etc/resolv.conf", Count: 1},
		},
	}
	p, err := NewPolicy(rec, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"(executed /usr/sbin/modprobe, finit_module (2 calls)): load them on the host instead",
		"/sys/class/net/eth0/queues/rx-0/rps_cpus (2 times) for writing and got EROFS in the trace run, and the workload passed without the write: /sys is read-only without privileged",
		"/etc/resolv.conf (1 time) for writing and got EROFS (a read-only file system)",
	}
	for _, w := range want {
		if !slices.ContainsFunc(p.Warnings, func(got string) bool { return strings.Contains(got, w) }) {
			t.Errorf("no warning containing %q in %q", w, p.Warnings)
		}
	}
	if n := len(recordingWarnings(Recording{Syscalls: []SyscallUse{{Name: "read", Count: 1}}})); n != 0 {
		t.Errorf("%d warnings for a recording without module loading or read-only writes", n)
	}
}

func TestHotplugDevicesOfferCgroupRules(t *testing.T) {
	rec := Recording{
		Service:  "usbreader",
		Arch:     "amd64",
		Syscalls: []SyscallUse{{Name: "ioctl", Count: 1}},
		Devices: []DeviceUse{
			{Type: "c", Major: 189, Minor: 2, Path: "/dev/bus/usb/001/003", Access: "rw", Programs: []ProgramCount{{Program: "lsusb", Count: 1}}},
			{Type: "c", Major: 188, Minor: 0, Path: "/dev/ttyUSB0", Access: "rw", Programs: []ProgramCount{{Program: "gpsd", Count: 1}}},
			{Type: "c", Major: 10, Minor: 200, Path: "/dev/net/tun", Access: "rw", Programs: []ProgramCount{{Program: "vpn", Count: 1}}},
		},
	}
	p, err := NewPolicy(rec, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`/dev/bus/usb/001/003 (c 189:2) is a USB device: its node is re-created`,
		`device_cgroup_rules: ["c 189:* rw"] and volumes: ["/dev/bus/usb:/dev/bus/usb"]`,
		`/dev/ttyUSB0 (c 188:0) is a USB serial adapter`,
		`device_cgroup_rules: ["c 188:* rw"] and a bind mount of the directory`,
	} {
		if !slices.ContainsFunc(p.Warnings, func(got string) bool { return strings.Contains(got, w) }) {
			t.Errorf("no warning containing %q in %q", w, p.Warnings)
		}
	}
	if slices.ContainsFunc(p.Warnings, func(got string) bool { return strings.Contains(got, "/dev/net/tun") }) {
		t.Errorf("a hot-plug warning for /dev/net/tun: %q", p.Warnings)
	}
	// The devices themselves stay granted with their access.
	if len(p.Devices) != 3 {
		t.Errorf("devices %+v, want all three", p.Devices)
	}
}

func TestPropagationWarning(t *testing.T) {
	rec := fuseRecording() // mounts
	p, err := NewPolicy(rec, PolicyOptions{SharedMounts: []string{"/mnt/export (rshared)"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(p.Warnings, func(w string) bool {
		return strings.Contains(w, "propagation /mnt/export (rshared)") && strings.Contains(w, "apparmor=unconfined")
	}) {
		t.Errorf("no propagation warning in %q", p.Warnings)
	}
	// Without a mount, shared bind mounts are nothing to warn about.
	p, err = NewPolicy(pingRecording(), PolicyOptions{SharedMounts: []string{"/mnt/export (rshared)"}})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(p.Warnings, func(w string) bool { return strings.Contains(w, "propagation") }) {
		t.Errorf("a propagation warning without any mount: %q", p.Warnings)
	}
}

// A seccomp filter installed without no_new_privs needs CAP_SYS_ADMIN: noise
// while the override sets no-new-privileges, a grant when it leaves it off.
func TestSeccompWithoutNoNewPrivs(t *testing.T) {
	rec := pingRecording()
	rec.Noise = []NoiseUse{{Capability: "CAP_SYS_ADMIN", Class: NoiseNoAudit, Count: 1, Site: "do_seccomp", Programs: []ProgramCount{{Program: "chronyd", Count: 1}}}}
	p, err := NewPolicy(rec, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(p.CapAdd, func(g Grant) bool { return g.Capability == "SYS_ADMIN" }) {
		t.Errorf("SYS_ADMIN granted under no-new-privileges: %+v", p.CapAdd)
	}
	p, err = NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(p.CapAdd, func(g Grant) bool { return g.Capability == "SYS_ADMIN" && strings.Contains(g.Evidence, "do_seccomp") }) {
		t.Errorf("no SYS_ADMIN for do_seccomp without no-new-privileges: %+v", p.CapAdd)
	}
	// Another no-audit site stays noise either way.
	rec.Noise[0].Site = "simple_xattr_list"
	if p, err = NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(false)}); err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(p.CapAdd, func(g Grant) bool { return g.Capability == "SYS_ADMIN" }) {
		t.Errorf("SYS_ADMIN granted for simple_xattr_list: %+v", p.CapAdd)
	}
}

// What an exec gains counts only where the override still lets it gain it:
// a capability outside cap_add is outside the bounding set.
func TestUngrantedGainsDoNotTurnNoNewPrivilegesOff(t *testing.T) {
	rec := pingRecording()
	// cap_net_bind_service=p, run by a user: gained in the privileged trace
	// run, but nothing checks or needs it, so it is not granted.
	rec.Execs = append(rec.Execs, ExecUse{Path: "/opt/p/httpd", Count: 1, CapsGained: []string{"CAP_NET_BIND_SERVICE"},
		File: &ExecFile{Mode: "0755", FileCaps: "cap_net_bind_service=p", CapsPermitted: []string{"CAP_NET_BIND_SERVICE"}}})
	p, err := NewPolicy(rec, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !p.NoNewPrivileges {
		t.Errorf("no-new-privileges off (%s) for a gain the override cannot give", p.NoNewPrivilegesWhy)
	}
	// ping's NET_RAW is granted (its +ep file), so a user's exec gaining it counts.
	rec.Execs[1].CapsGained = []string{"CAP_NET_RAW"}
	if p, err = NewPolicy(rec, PolicyOptions{}); err != nil {
		t.Fatal(err)
	}
	if p.NoNewPrivileges || !strings.Contains(p.NoNewPrivilegesWhy, "/usr/bin/ping (gained CAP_NET_RAW") || strings.Contains(p.NoNewPrivilegesWhy, "NET_BIND_SERVICE") {
		t.Errorf("no-new-privileges %v (%s), want off for ping only", p.NoNewPrivileges, p.NoNewPrivilegesWhy)
	}
}

// A program executed by a relative path is not inspected; what its exec
// gained without an id change came from file capabilities and is granted.
func TestUninspectedFileCapabilityExecIsGranted(t *testing.T) {
	rec := pingRecording()
	rec.Execs = []ExecUse{{Path: "./httpd", Count: 1, CapsGained: []string{"CAP_NET_BIND_SERVICE"}, FileError: "not inspected: executed by a relative path"}}
	p, err := NewPolicy(rec, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.CapAdd) != 1 || p.CapAdd[0].Capability != "NET_BIND_SERVICE" || !strings.Contains(p.CapAdd[0].Evidence, "./httpd") {
		t.Errorf("cap_add %+v, want NET_BIND_SERVICE for ./httpd", p.CapAdd)
	}
	// A setuid program's gains come from the id change, not from its file.
	rec.Execs[0].IDChange = "run by uid 1000: euid 1000 -> 0"
	if p, err = NewPolicy(rec, PolicyOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(p.CapAdd) != 0 {
		t.Errorf("cap_add %+v for an uninspected setuid exec, want none", p.CapAdd)
	}
}

// Turning no-new-privileges on takes back what was granted only because
// it was off.
func TestWithNoNewPrivilegesDropsItsGrants(t *testing.T) {
	rec := pingRecording()
	rec.Noise = []NoiseUse{
		{Capability: "CAP_SYS_ADMIN", Class: NoiseNoAudit, Count: 1, Site: "do_seccomp", Programs: []ProgramCount{{Program: "sandboxed", Count: 1}}},
		{Capability: "CAP_NET_RAW", Class: NoiseNoAudit, Count: 1, Site: "__do_sys_landlock_restrict_self", Programs: []ProgramCount{{Program: "sandboxed", Count: 1}}},
	}
	p, err := NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range p.CapAdd {
		names = append(names, g.Capability)
	}
	// NET_RAW under landlock is no table site (landlock checks SYS_ADMIN): only SYS_ADMIN is added.
	if !slices.Equal(names, []string{"NET_RAW", "SYS_ADMIN"}) {
		t.Fatalf("cap_add %v, want NET_RAW (ping's file) and SYS_ADMIN (seccomp without no_new_privs)", names)
	}
	on, err := p.WithNoNewPrivileges(rec, "set by a test")
	if err != nil {
		t.Fatal(err)
	}
	names = nil
	for _, g := range on.CapAdd {
		names = append(names, g.Capability)
	}
	if !on.NoNewPrivileges || !slices.Equal(names, []string{"NET_RAW"}) {
		t.Errorf("with no-new-privileges: %v %v, want on and NET_RAW only", on.NoNewPrivileges, names)
	}
}

func TestSysctlNotesAreWarnings(t *testing.T) {
	rec := ipforwardRecording()
	rec.Sysctls = []SysctlChange{
		{Key: "net.ipv4.ip_forward", Value: "1", Baseline: "0", Note: "they change one another"},
		{Key: "net.ipv4.conf.all.accept_redirects", Value: "1", Baseline: "0", Note: "they change one another"},
	}
	p, err := NewPolicy(rec, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(p.Warnings, "sysctls net.ipv4.conf.all.accept_redirects, net.ipv4.ip_forward: they change one another") {
		t.Errorf("warnings %q", p.Warnings)
	}
}
