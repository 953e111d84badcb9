package profiles

// The fixtures are shaped like real trace runs of the examples: a TUN
// service, a service that needs nothing, a BPF tool on an engine that rejects
// CAP_BPF and CAP_PERFMON by name, and a FUSE mount on arm64.

func tunRecording() Recording {
	return Recording{
		Service: "tun",
		Image:   "capprof/example-tun:latest",
		ImageID: "sha256:1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988",
		Arch:    "amd64",
		Capabilities: []CapabilityUse{
			{
				Capability: "CAP_NET_ADMIN", Granted: 12,
				Programs: []ProgramCount{{Program: "ip", Count: 12}},
				Sites:    []string{"tun_set_iff", "dev_ioctl", "tun_set_iff"},
			},
		},
		Noise: []NoiseUse{
			// Only denied: the workload tolerated it, so it is no need.
			{Capability: "CAP_NET_RAW", Class: NoiseDeniedTolerated, Count: 2, Programs: []ProgramCount{{Program: "ping", Count: 2}}, Site: "inet_create"},
			{Capability: "CAP_SYS_ADMIN", Class: NoiseVMAccounting, Count: 31, Programs: []ProgramCount{{Program: "sh", Count: 20}, {Program: "ip", Count: 11}}, Site: "security_vm_enough_memory_mm"},
			{Capability: "CAP_SETPCAP", Class: NoiseRuntimeSetup, Count: 40, Programs: []ProgramCount{{Program: "runc:[2:INIT]", Count: 40}}, Site: "__x64_sys_prctl"},
		},
		Syscalls: []SyscallUse{
			{Name: "write", Count: 40}, {Name: "ioctl", Count: 3}, {Name: "openat", Count: 9},
			{Name: "socket", Count: 4}, {Name: "sendmsg", Count: 6}, {Name: "recvmsg", Count: 12},
			{Name: "close", Count: 12}, {Name: "read", Count: 20}, {Name: "clone3", Count: 1},
			{Name: "wait4", Count: 2}, {Name: "execve", Count: 3}, {Name: "exit_group", Count: 3},
		},
		Devices: []DeviceUse{
			{Type: "c", Major: 10, Minor: 200, Path: "/dev/net/tun", Access: "wr", Programs: []ProgramCount{{Program: "ip", Count: 1}}},
		},
	}
}

func emptyRecording() Recording {
	return Recording{Service: "idle", Image: "busybox:1.36", ImageID: "sha256:00000000000000000000000000000000000000000000000000000000000000aa", Arch: "amd64"}
}

func bpftoolRecording() Recording {
	return Recording{
		Service: "bpftool",
		Image:   "capprof/example-bpftool:latest",
		ImageID: "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		Arch:    "x86_64",
		Capabilities: []CapabilityUse{
			{Capability: "cap_bpf", Granted: 5, Programs: []ProgramCount{{Program: "bpftool", Count: 5}}, Sites: []string{"__sys_bpf"}},
			{Capability: "CAP_PERFMON", Granted: 2, Programs: []ProgramCount{{Program: "bpftool", Count: 2}}, Sites: []string{"bpf_prog_load"}},
			{Capability: "CAP_SYS_RESOURCE", Granted: 1, Programs: []ProgramCount{{Program: "bpftool", Count: 1}}, Sites: []string{"do_prlimit"}},
		},
		Syscalls: []SyscallUse{{Name: "bpf", Count: 30}, {Name: "prlimit64", Count: 1}, {Name: "perf_event_open", Count: 2}},
	}
}

func fuseRecording() Recording {
	return Recording{
		Service: "fuse",
		Image:   "capprof/example-fuse:latest",
		ImageID: "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
		Arch:    "arm64",
		Capabilities: []CapabilityUse{
			{Capability: "CAP_SYS_ADMIN", Granted: 2, Denied: 0, Programs: []ProgramCount{{Program: "sshfs", Count: 2}}, Sites: []string{"path_mount"}},
		},
		Syscalls: []SyscallUse{{Name: "mount", Count: 1}, {Name: "openat", Count: 5}, {Name: "clone", Count: 2}},
		Devices: []DeviceUse{
			{Type: "c", Major: 10, Minor: 229, Path: "/dev/fuse", Access: "rw", Programs: []ProgramCount{{Program: "sshfs", Count: 1}, {Program: "fusermount3", Count: 1}}},
		},
		// sshfs runs as uid 1000 and mounts through the setuid-root fusermount3.
		Execs: []ExecUse{
			{Path: "/usr/bin/fusermount3", Count: 1, CapsGained: []string{"CAP_SYS_ADMIN"}, IDChange: "run by uid 1000: euid 1000 -> 0",
				File: &ExecFile{Mode: "4755", Setuid: true}},
			{Path: "/usr/bin/sshfs", Count: 1, File: &ExecFile{Mode: "0755", UID: 0, GID: 0}},
		},
		ReadonlyWrites: []PathCount{{Path: "/sys/fs/fuse/connections/42/max_background", Count: 1}},
	}
}

// ipforwardRecording is a router that turned on IPv4 forwarding itself; its
// write's CAP_NET_ADMIN check is sysctl-write noise.
func ipforwardRecording() Recording {
	return Recording{
		Service: "ipforward",
		Image:   "capprof-example/ipforward:latest",
		ImageID: "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
		Arch:    "amd64",
		Noise: []NoiseUse{
			{Capability: "CAP_NET_ADMIN", Class: NoiseSysctlWrite, Count: 1, Programs: []ProgramCount{{Program: "ipforward-up", Count: 1}}, Site: "net_ctl_permissions"},
		},
		Syscalls: []SyscallUse{{Name: "openat", Count: 4}, {Name: "write", Count: 2}, {Name: "read", Count: 3}},
		Sysctls: []SysctlChange{
			{Key: "net.ipv4.ip_forward", Value: "1", Baseline: "0"},
			{Key: "kernel.shmmax", Value: "68719476736", Baseline: "18446744073692774399"},
		},
	}
}

// goldenCases are the recordings with golden artifacts and the options the
// profiler would pass for them.
var goldenCases = []struct {
	name string
	rec  func() Recording
	opts PolicyOptions
}{
	{"tun", tunRecording, PolicyOptions{NoNewPrivileges: boolPtr(true)}},
	{"ipforward", ipforwardRecording, PolicyOptions{NoNewPrivileges: boolPtr(true)}},
	{"idle", emptyRecording, PolicyOptions{NoNewPrivileges: boolPtr(true)}},
	{"bpftool", bpftoolRecording, PolicyOptions{NoNewPrivileges: boolPtr(true), EngineRejects: []string{"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"}}},
	{"fuse", fuseRecording, PolicyOptions{NoNewPrivileges: boolPtr(false), SeccompPath: "profiles/fuse-seccomp.json"}},
}

func boolPtr(b bool) *bool { return &b }
