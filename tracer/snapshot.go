package tracer

import (
	"cmp"
	"slices"
	"strings"
)

// Snapshot is what the tracer has counted since New, per mount namespace.
// Every slice is sorted by its fields in declaration order, so two snapshots
// of the same counts are equal.
type Snapshot struct {
	// HostMntNS is the host's mount namespace inode; nothing in it is recorded.
	HostMntNS uint32
	// Namespaces lists the mount namespaces a workload exec'd in.
	Namespaces []Namespace
	// CapChecks are the capability checks the kernel made.
	CapChecks []CapCheck
	// Syscalls are the system calls that were entered.
	Syscalls []Syscall
	// SyscallErrors are system calls that returned EPERM, EACCES or ENOSYS,
	// including those seccomp refused before they were entered.
	SyscallErrors []SyscallError
	// Devices are the device nodes opened or created.
	Devices []DeviceAccess
	// CapsetKeeps are the capabilities tasks asked capset(2) to keep.
	CapsetKeeps []CapsetKeep
	// Execs are the programs executed, with what their execs gained.
	Execs []Exec
	// ReadonlyWrites are paths whose opening for writing failed with EROFS.
	ReadonlyWrites []ReadonlyWrite
}

// Exec counts the executions of one program path in one mount namespace and
// says what they changed in the caller's credentials: a setuid or setgid
// program changes the effective ids, one with file capabilities grows the
// permitted set. no-new-privileges stops both.
type Exec struct {
	// MntNS is the mount namespace of the task that executed it.
	MntNS uint32
	// MntNSID is the kernel's id of that mount namespace, which unlike the
	// inode number is never reused (see Namespace.MntNSID).
	MntNSID uint64
	// Path is the file name as execve(2) got it: usually absolute, relative
	// when the caller passed it so, "/dev/fd/N" for fexecve; cut at 255 bytes.
	Path string
	// Count is how often it was executed.
	Count uint64
	// CapsGained is the union of the capabilities the execs added to the
	// permitted set, bit n for capability n.
	CapsGained uint64
	// IDChanges is how many execs changed the effective user or group id.
	IDChanges uint64
	// UID is the real user id of the caller of the last exec that changed
	// ids, and EUIDBefore/After and EGIDBefore/After the effective ids
	// around it; zero when IDChanges is.
	UID                   uint32
	EUIDBefore, EUIDAfter uint32
	EGIDBefore, EGIDAfter uint32
}

// ReadonlyWrite counts the failed write opens of one path.
type ReadonlyWrite struct {
	// MntNS is the mount namespace of the task.
	MntNS uint32
	// MntNSID is the kernel's id of that mount namespace (see Namespace.MntNSID).
	MntNSID uint64
	// Path is the path as the caller passed it (possibly relative), cut at 255 bytes.
	Path string
	// Count is how often the open failed with EROFS.
	Count uint64
}

// Namespace ties a mount namespace to the container that runs in it.
type Namespace struct {
	// MntNS is the mount namespace inode.
	MntNS uint32
	// MntNSID is the kernel's id of the mount namespace (ns_id, or the mount
	// namespace sequence number before Linux 6.18; the NS_GET_MNTNS_ID ioctl
	// on /proc/PID/ns/mnt returns it for a running process). The kernel gives a freed
	// namespace's inode number to the next new namespace at once, so
	// containers started one after another usually share MntNS; the pair
	// (MntNS, MntNSID) tells them apart.
	MntNSID uint64
	// Nodename is the UTS nodename at the namespace's first workload exec: a
	// container's hostname, by default the first 12 characters of its id.
	Nodename string
	// FirstPID is the host pid of the process of that first exec.
	FirstPID uint32
	// Cgroup is the name of that process's cgroup on the unified hierarchy:
	// Docker names it after the container id ("<id>", or "docker-<id>.scope"
	// with the systemd driver). Empty where no unified hierarchy is mounted.
	Cgroup string
}

// CapCheck counts identical capability checks.
type CapCheck struct {
	// MntNS is the mount namespace of the task that was checked.
	MntNS uint32
	// MntNSID is the kernel's id of that mount namespace, which unlike the
	// inode number is never reused (see Namespace.MntNSID).
	MntNSID uint64
	// Cap is the capability number (CAP_CHOWN is 0).
	Cap int
	// Denied is true when the task did not have the capability.
	Denied bool
	// Workload is true when the task descends from the exec that ended the
	// container runtime's setup, false for the runtime's own checks.
	Workload bool
	// ForeignCred is true when the kernel checked credentials other than the
	// task's own, as overlayfs does with its mounter's.
	ForeignCred bool
	// ExecSetup is true for a runtime check (Workload false) made after the
	// namespace's workload had started: the runtime init of a docker exec
	// or a healthcheck joining the running container.
	ExecSetup bool
	// Comm is the task's command name.
	Comm string
	// Stack is the symbolized kernel stack of the check, innermost frame
	// first, starting at cap_capable; nil when the kernel kept no stack.
	Stack []string
	// Count is how often the check was made.
	Count uint64
}

// Syscall counts entries into one system call.
type Syscall struct {
	// MntNS is the mount namespace of the calling task.
	MntNS uint32
	// MntNSID is the kernel's id of that mount namespace, which unlike the
	// inode number is never reused (see Namespace.MntNSID).
	MntNSID uint64
	// Nr is the system call number of the running architecture.
	Nr int
	// Workload is true for the workload's calls, false for the runtime's setup.
	Workload bool
	// Count is how often the call was entered.
	Count uint64
}

// SyscallError counts system calls that failed with a permission error.
type SyscallError struct {
	// MntNS is the mount namespace of the calling task.
	MntNS uint32
	// MntNSID is the kernel's id of that mount namespace, which unlike the
	// inode number is never reused (see Namespace.MntNSID).
	MntNSID uint64
	// Nr is the system call number of the running architecture.
	Nr int
	// Errno is EPERM (1), EACCES (13) or ENOSYS (38).
	Errno int
	// Count is how often the call failed so.
	Count uint64
}

// DeviceAccess counts opens or creations of one device node.
type DeviceAccess struct {
	// MntNS is the mount namespace of the task.
	MntNS uint32
	// MntNSID is the kernel's id of that mount namespace, which unlike the
	// inode number is never reused (see Namespace.MntNSID).
	MntNSID uint64
	// Block is true for a block device, false for a character device.
	Block bool
	// Major and Minor are the device numbers.
	Major, Minor uint32
	// Access is the device cgroup access that was used: a subset of "rwm" in
	// that order (read, write, mknod).
	Access string
	// Workload is true for the workload's accesses, false for the runtime's setup.
	Workload bool
	// Comm is the task's command name.
	Comm string
	// Count is how often the device was opened or created so.
	Count uint64
}

// CapsetKeep is what the capset(2) calls of one program in one mount
// namespace asked to keep. The kernel checks such a request against the
// permitted set without a capability check, so a program that keeps some
// capabilities across a change of user (dnsmasq, chronyd) shows its need
// here only. Calls that asked for the whole permitted set the task had are
// left out: they keep everything and say nothing about what is needed.
type CapsetKeep struct {
	// MntNS is the mount namespace of the calling task.
	MntNS uint32
	// MntNSID is the kernel's id of that mount namespace, which unlike the
	// inode number is never reused (see Namespace.MntNSID).
	MntNSID uint64
	// Workload is true for the workload's calls, false for the runtime's setup.
	Workload bool
	// Comm is the task's command name.
	Comm string
	// Kept is the union of the capabilities the calls kept, bit n for
	// capability n: the requested permitted and effective sets within the
	// task's permitted set, plus CAP_SETPCAP when a call grew the
	// inheritable set beyond the inheritable and permitted sets.
	Kept uint64
	// Count is how many calls kept part of the permitted set.
	Count uint64
}

// Access bits of the BPF device key (ACCESS_* in bpf/capprof.bpf.c).
const (
	accessRead  = 1
	accessWrite = 2
	accessMknod = 4
)

// Device number encodings of the BPF device key (DEV_* in bpf/capprof.bpf.c).
const (
	devEncodingKernel = 0
	devEncodingUser   = 1
)

// accessString turns access bits into the device cgroup's "rwm" notation.
func accessString(bits uint8) string {
	var b strings.Builder
	if bits&accessRead != 0 {
		b.WriteByte('r')
	}
	if bits&accessWrite != 0 {
		b.WriteByte('w')
	}
	if bits&accessMknod != 0 {
		b.WriteByte('m')
	}
	return b.String()
}

// decodeKernelDev splits a dev_t as the kernel stores it in an inode
// (include/linux/kdev_t.h: MINORBITS 20).
func decodeKernelDev(dev uint32) (major, minor uint32) {
	return dev >> 20, dev & 0xfffff
}

// decodeUserDev splits a dev_t as user space passes it to mknod(2)
// (new_decode_dev in include/linux/kdev_t.h).
func decodeUserDev(dev uint32) (major, minor uint32) {
	return (dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00)
}

// decodeDev splits dev according to the encoding the BPF program recorded.
func decodeDev(dev uint32, encoding uint8) (major, minor uint32) {
	if encoding == devEncodingUser {
		return decodeUserDev(dev)
	}
	return decodeKernelDev(dev)
}

// commString turns a NUL-padded comm into a string.
func commString(comm []int8) string {
	b := make([]byte, 0, len(comm))
	for _, c := range comm {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}

// mergeSorted sorts s by cmpKey (every field but the count) and folds
// neighbours that compare equal into one, adding their counts. Two kernel keys
// can become one entry once decoded, e.g. two stacks that symbolize alike.
func mergeSorted[T any](s []T, cmpKey func(a, b T) int, count func(*T) *uint64) []T {
	slices.SortFunc(s, cmpKey)
	out := s[:0]
	for _, v := range s {
		if n := len(out); n > 0 && cmpKey(out[n-1], v) == 0 {
			*count(&out[n-1]) += *count(&v)
			continue
		}
		out = append(out, v)
	}
	return out
}

// normalize sorts and merges every slice of s.
func (s *Snapshot) normalize() {
	slices.SortFunc(s.Namespaces, func(a, b Namespace) int {
		return cmp.Or(cmp.Compare(a.MntNS, b.MntNS), cmp.Compare(a.MntNSID, b.MntNSID), strings.Compare(a.Nodename, b.Nodename), cmp.Compare(a.FirstPID, b.FirstPID))
	})
	s.CapChecks = mergeSorted(s.CapChecks, func(a, b CapCheck) int {
		return cmp.Or(
			cmp.Compare(a.MntNS, b.MntNS),
			cmp.Compare(a.MntNSID, b.MntNSID),
			cmp.Compare(a.Cap, b.Cap),
			cmpBool(a.Denied, b.Denied),
			cmpBool(a.Workload, b.Workload),
			cmpBool(a.ForeignCred, b.ForeignCred),
			cmpBool(a.ExecSetup, b.ExecSetup),
			strings.Compare(a.Comm, b.Comm),
			cmpBool(a.Stack != nil, b.Stack != nil),
			slices.Compare(a.Stack, b.Stack),
		)
	}, func(c *CapCheck) *uint64 { return &c.Count })
	s.Syscalls = mergeSorted(s.Syscalls, func(a, b Syscall) int {
		return cmp.Or(cmp.Compare(a.MntNS, b.MntNS), cmp.Compare(a.MntNSID, b.MntNSID), cmp.Compare(a.Nr, b.Nr), cmpBool(a.Workload, b.Workload))
	}, func(c *Syscall) *uint64 { return &c.Count })
	s.SyscallErrors = mergeSorted(s.SyscallErrors, func(a, b SyscallError) int {
		return cmp.Or(cmp.Compare(a.MntNS, b.MntNS), cmp.Compare(a.MntNSID, b.MntNSID), cmp.Compare(a.Nr, b.Nr), cmp.Compare(a.Errno, b.Errno))
	}, func(c *SyscallError) *uint64 { return &c.Count })
	s.Devices = mergeSorted(s.Devices, func(a, b DeviceAccess) int {
		return cmp.Or(
			cmp.Compare(a.MntNS, b.MntNS),
			cmp.Compare(a.MntNSID, b.MntNSID),
			cmpBool(a.Block, b.Block),
			cmp.Compare(a.Major, b.Major),
			cmp.Compare(a.Minor, b.Minor),
			strings.Compare(a.Access, b.Access),
			cmpBool(a.Workload, b.Workload),
			strings.Compare(a.Comm, b.Comm),
		)
	}, func(c *DeviceAccess) *uint64 { return &c.Count })
	s.CapsetKeeps = mergeSorted(s.CapsetKeeps, func(a, b CapsetKeep) int {
		return cmp.Or(
			cmp.Compare(a.MntNS, b.MntNS),
			cmp.Compare(a.MntNSID, b.MntNSID),
			cmpBool(a.Workload, b.Workload),
			strings.Compare(a.Comm, b.Comm),
			cmp.Compare(a.Kept, b.Kept),
		)
	}, func(c *CapsetKeep) *uint64 { return &c.Count })
	// Execs are unique per (namespace, path) in the kernel map.
	slices.SortFunc(s.Execs, func(a, b Exec) int {
		return cmp.Or(cmp.Compare(a.MntNS, b.MntNS), cmp.Compare(a.MntNSID, b.MntNSID), strings.Compare(a.Path, b.Path))
	})
	s.ReadonlyWrites = mergeSorted(s.ReadonlyWrites, func(a, b ReadonlyWrite) int {
		return cmp.Or(cmp.Compare(a.MntNS, b.MntNS), cmp.Compare(a.MntNSID, b.MntNSID), strings.Compare(a.Path, b.Path))
	}, func(c *ReadonlyWrite) *uint64 { return &c.Count })
}

// mntnsRef names one mount namespace unambiguously.
type mntnsRef struct {
	inum uint32
	id   uint64
}

// ForNodename returns the part of s recorded in the mount namespaces whose
// nodename is nodename: one container's, when nodename is its hostname.
// It matches by inode and id, so a namespace that earlier held the same
// inode number is left out. The result shares no slices with s.
func (s *Snapshot) ForNodename(nodename string) *Snapshot {
	out := &Snapshot{HostMntNS: s.HostMntNS}
	keep := map[mntnsRef]bool{}
	for _, n := range s.Namespaces {
		if n.Nodename == nodename {
			keep[mntnsRef{n.MntNS, n.MntNSID}] = true
			out.Namespaces = append(out.Namespaces, n)
		}
	}
	for _, c := range s.CapChecks {
		if keep[mntnsRef{c.MntNS, c.MntNSID}] {
			c.Stack = slices.Clone(c.Stack)
			out.CapChecks = append(out.CapChecks, c)
		}
	}
	for _, c := range s.Syscalls {
		if keep[mntnsRef{c.MntNS, c.MntNSID}] {
			out.Syscalls = append(out.Syscalls, c)
		}
	}
	for _, e := range s.SyscallErrors {
		if keep[mntnsRef{e.MntNS, e.MntNSID}] {
			out.SyscallErrors = append(out.SyscallErrors, e)
		}
	}
	for _, d := range s.Devices {
		if keep[mntnsRef{d.MntNS, d.MntNSID}] {
			out.Devices = append(out.Devices, d)
		}
	}
	for _, k := range s.CapsetKeeps {
		if keep[mntnsRef{k.MntNS, k.MntNSID}] {
			out.CapsetKeeps = append(out.CapsetKeeps, k)
		}
	}
	for _, e := range s.Execs {
		if keep[mntnsRef{e.MntNS, e.MntNSID}] {
			out.Execs = append(out.Execs, e)
		}
	}
	for _, w := range s.ReadonlyWrites {
		if keep[mntnsRef{w.MntNS, w.MntNSID}] {
			out.ReadonlyWrites = append(out.ReadonlyWrites, w)
		}
	}
	return out
}
