package profiles

// Recording is everything the tracer saw one service do during a trace run,
// already attributed to that service's containers and classified. It is the
// input of every emitter in this package.
type Recording struct {
	// Service is the compose service name.
	Service string `json:"service"`
	// Image is the image reference the service ran, and ImageID its content id.
	Image   string `json:"image"`
	ImageID string `json:"image_id"`
	// Arch is the libseccomp name of the architecture the recording was made on
	// ("amd64", "arm64"); syscall names are valid for it only.
	Arch string `json:"arch"`
	// Capabilities are the checks the workload itself made, one entry per
	// capability it was granted at least once. (Recordings made before
	// NoiseDeniedTolerated hold the only-denied ones here too, with Granted 0.)
	Capabilities []CapabilityUse `json:"capabilities"`
	// Noise are the checks that were seen but are not needs, with the reason.
	Noise []NoiseUse `json:"noise"`
	// Syscalls are the system calls the workload made (after the runtime's exec).
	Syscalls []SyscallUse `json:"syscalls"`
	// RuntimeSyscalls are system calls made only by the container runtime's
	// setup inside the container; they are kept for the report.
	RuntimeSyscalls []SyscallUse `json:"runtime_syscalls,omitempty"`
	// Devices are the device nodes the workload opened or created.
	Devices []DeviceUse `json:"devices"`
	// Sysctls are the namespaced sysctls (net.*, kernel.shm*, kernel.msg*,
	// kernel.sem, fs.mqueue.*) the service changed in the trace run: their
	// value at the end of it differs from a fresh container's. Sorted by key.
	Sysctls []SysctlChange `json:"sysctls,omitempty"`
	// Execs are the programs the service executed, by path, with what
	// their execs gained and what their files carry (setuid, file capabilities).
	Execs []ExecUse `json:"execs,omitempty"`
	// ReadonlyWrites are paths the service opened for writing in vain
	// (EROFS), sorted: /sys is read-only without privileged.
	ReadonlyWrites []PathCount `json:"readonly_writes,omitempty"`
}

// SysctlChange is one namespaced sysctl the service set.
type SysctlChange struct {
	// Key is the dotted name ("net.ipv4.ip_forward").
	Key string `json:"key"`
	// Value is what the service left it at, Baseline what a fresh container
	// has; fields of a multi-field value are separated by one space.
	Value    string `json:"value"`
	Baseline string `json:"baseline"`
	// Note says what a reviewer must know about setting it, e.g. that it
	// and another key change one another.
	Note string `json:"note,omitempty"`
}

// ProgramCount says how often one program (its comm) did something.
type ProgramCount struct {
	Program string `json:"program"`
	Count   uint64 `json:"count"`
}

// CapabilityUse is one capability the workload asked the kernel for.
type CapabilityUse struct {
	// Capability is the kernel name, e.g. "CAP_NET_ADMIN".
	Capability string `json:"capability"`
	// Granted and Denied count the checks by result in the trace run.
	Granted uint64 `json:"granted"`
	Denied  uint64 `json:"denied"`
	// Programs lists who asked, sorted by program name.
	Programs []ProgramCount `json:"programs"`
	// Sites are symbolized kernel call sites (innermost caller of the check
	// that is not capability plumbing), sorted, for the report.
	Sites []string `json:"sites,omitempty"`
}

// NoiseClass names why a capability check is not a need.
type NoiseClass string

const (
	// NoiseRuntimeSetup is a check made by the container runtime (runc/crun
	// init) before it executed the entrypoint or an exec'd command.
	NoiseRuntimeSetup NoiseClass = "runtime-setup"
	// NoiseVMAccounting is the kernel's opportunistic CAP_SYS_ADMIN check in
	// memory accounting (security_vm_enough_memory_mm) on fork and mmap.
	NoiseVMAccounting NoiseClass = "vm-accounting"
	// NoiseNoAudit is a check the kernel made with the no-audit option from
	// another call site (ns_capable_noaudit, has_capability_noaudit …).
	NoiseNoAudit NoiseClass = "no-audit"
	// NoiseForeignCred is a check made with credentials that are not the
	// task's own while the task was current, e.g. overlayfs checking xattrs
	// with the mounter's credentials: granting the capability to the
	// container would not change its result.
	NoiseForeignCred NoiseClass = "foreign-cred"
	// NoiseOpportunistic is a check whose result matters only in a case the
	// trace did not show: capset(2) asks for CAP_SETPCAP on every call
	// (cap_inh_is_capped) but needs it only to grow the inheritable set beyond
	// the inheritable and permitted sets. The tracer records that case among
	// the capabilities capset keeps, so it is granted when it happened.
	NoiseOpportunistic NoiseClass = "opportunistic"
	// NoiseSysctlWrite is the capability check procfs makes when a sysctl
	// file of a namespace is opened (net_ctl_permissions asks for
	// CAP_NET_ADMIN, ipc_permissions for CAP_CHECKPOINT_RESTORE). Without
	// privileged /proc/sys is mounted read-only and a write fails with EROFS
	// before the check, whatever the capabilities; for reads by the
	// container's root the check changes nothing. The service's sysctl
	// changes are carried by sysctls: instead (Recording.Sysctls).
	NoiseSysctlWrite NoiseClass = "sysctl-write"
	// NoiseExecSetup is a check made by the container runtime's init for a
	// docker exec or a healthcheck, joining the running container before it
	// executed the command: runtime set-up, not the command's need.
	NoiseExecSetup NoiseClass = "exec-setup"
	// NoiseDeniedTolerated is a capability the trace run asked for and was
	// only ever denied: the trace run had every capability this host can
	// give, so either the host cannot grant it (a bounding set without
	// CAP_SYS_RESOURCE) or the program had dropped it itself, and the
	// service passed its workload without it (a setrlimit raise that failed
	// and was ignored). The override does not grant it, and a replay may be
	// denied it as often as the trace run was. Count is the denied checks.
	NoiseDeniedTolerated NoiseClass = "denied-tolerated"
	// NoiseSubsumed is a check that a capability the service needs anyway
	// would pass as well. generic_permission asks for CAP_DAC_READ_SEARCH
	// first to read a file or to read or search a directory, and when that
	// is denied asks for CAP_DAC_OVERRIDE for the same inode, so where
	// DAC_OVERRIDE is granted a DAC_READ_SEARCH check there grants nothing
	// more: the trace run would otherwise grant both, the weaker one only
	// because the kernel asked it first. Denied checks there are subsumed
	// too, so that a replay without DAC_READ_SEARCH does not fail on them.
	NoiseSubsumed NoiseClass = "subsumed"
)

// NoiseUse is one (capability, class) pair of checks that were not needs.
type NoiseUse struct {
	Capability string         `json:"capability"`
	Class      NoiseClass     `json:"class"`
	Count      uint64         `json:"count"`
	Programs   []ProgramCount `json:"programs"`
	// Site is the kernel function that identified the class, when a stack did.
	Site string `json:"site,omitempty"`
}

// SyscallUse is one system call by name with how often it was made.
type SyscallUse struct {
	Name  string `json:"name"`
	Count uint64 `json:"count"`
}

// DeviceUse is one device node used by the workload.
type DeviceUse struct {
	// Type is "c" for character and "b" for block devices.
	Type  string `json:"type"`
	Major uint32 `json:"major"`
	Minor uint32 `json:"minor"`
	// Path is the host path of the node with that number ("/dev/net/tun"),
	// empty when the host has none.
	Path string `json:"path"`
	// Access is the cgroup access the workload needed: a subset of "rwm" in that order.
	Access   string         `json:"access"`
	Programs []ProgramCount `json:"programs"`
}
