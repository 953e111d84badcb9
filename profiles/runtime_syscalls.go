package profiles

import (
	"slices"
	"sort"
)

// The lists below are the system calls the container runtime itself makes
// under the service's seccomp filter: runc installs the filter inside its Go
// init process ("runc init", linuxStandardInit / linuxSetnsInit for exec) and
// then keeps running until the final execve of the entrypoint. A trace that
// attributes syscalls to the workload only from that execve on never sees
// them, yet a profile without them stops the container from starting.
//
// Where runc installs the filter depends on no-new-privileges:
//
//   - on:  as late as possible, after the user, capabilities, working
//     directory and the LookPath/eaccess of the entrypoint are done; the
//     window is small (runtimeSyscallsAfterFilter).
//   - off: installing a filter is privileged then, so it happens before
//     finalizeNamespace drops privileges; everything finalizeNamespace does
//     is filtered too (runtimeSyscallsWithoutNNP, added to the former).
//
// Docker's default runtime is runc; crun, a C program, follows the same
// rule. With no-new-privileges on its container start needs a subset of the
// first list (close, closing inherited fds, execve), and its exec (docker
// exec, healthchecks) also sets the umask after the filter. With it off, crun
// installs the filter before it waits on the exec fifo and before exec
// checks /proc/self/setgroups and hands over the standard streams, which
// runc does not do under its filter. The entries marked "crun" are crun's
// alone, each measured: refused, they fail the start or the exec, or the
// replay counts them.

// runtimeSyscallsAfterFilter is sorted. Each entry is there for a reason
// named in the comment beside it; "Go runtime" means runc init's own Go
// runtime, which keeps scheduling, collecting garbage and preempting
// goroutines in the window.
var runtimeSyscallsAfterFilter = []string{
	"clock_gettime",   // Go runtime: nanotime falls back to the syscall where the vDSO is not mapped
	"clone",           // Go runtime: a new OS thread (M) when a goroutine blocks; Go never uses clone3
	"close",           // runc: closes the sync and log pipes, the exec fifo and, via UnsafeCloseFrom, every fd not passed on
	"epoll_ctl",       // Go runtime: os.Open registers with the netpoller and Close deregisters (/proc/self/fd listing)
	"epoll_pwait",     // Go runtime: netpoller wait; Go uses the pwait form on every architecture, never epoll_wait
	"execve",          // runc: the final exec of the entrypoint; runc-dmz also ends in execve
	"execveat",        // runc: Fexecve of runc-dmz from its memfd
	"exit",            // Go runtime: an OS thread exits
	"exit_group",      // runc: init fails and exits; without it a failing start spins instead of erroring
	"fcntl",           // Go runtime: os.File.Fd() switches an fd back to blocking mode; CloseExecFrom's fallback sets FD_CLOEXEC
	"fstat",           // Go runtime: os.File.Stat (os.ReadFile sizes its buffer with it)
	"fstatfs",         // runc: UnsafeCloseFrom first checks that /proc/self/fd is on procfs ("ensure /proc/self/fd is on procfs")
	"futex",           // Go runtime: goroutine and thread park/wake
	"getdents64",      // runc: UnsafeCloseFrom lists /proc/thread-self/fd
	"getpid",          // runc: the container state passed to startContainer hooks; Go runtime: signal delivery
	"gettid",          // Go runtime: thread initialisation and signal targeting
	"madvise",         // Go runtime: the scavenger returns heap memory
	"mmap",            // Go runtime: heap and stack growth
	"munmap",          // Go runtime: heap and stack release
	"nanosleep",       // Go runtime: sysmon and spinning threads sleep (usleep)
	"newfstatat",      // runc: os.Stat probes /proc/thread-self on first use, which can fall in the window
	"openat",          // runc: reopens the exec fifo through /proc/thread-self/fd and opens /proc/thread-self/fd itself
	"prlimit64",       // Go runtime: syscall.Exec restores the original RLIMIT_NOFILE just before execve (Go ≥ 1.21)
	"read",            // Go runtime: drains the netpoller's wake-up eventfd; runc: sync socket
	"restart_syscall", // kernel: resumes a futex or nanosleep interrupted by the runtime's preemption signal
	"rseq",            // glibc start-up of the entrypoint registers restartable sequences right after execve
	"rt_sigaction",    // Go runtime: signal handler setup on new threads and before exec
	"rt_sigprocmask",  // Go runtime: signal masks on new threads and around exec
	"rt_sigreturn",    // Go runtime: return from every signal handler (SIGURG preemption)
	"sched_yield",     // Go runtime: osyield while spinning
	"set_robust_list", // glibc start-up of the entrypoint, right after execve
	"set_tid_address", // glibc start-up of the entrypoint, right after execve
	"sigaltstack",     // Go runtime: per-thread signal stack on new threads
	"tgkill",          // Go runtime: asynchronous preemption signals one thread
	"umask",           // crun: exec (docker exec, healthchecks) sets the umask after the filter, just before execve (EPERM is ignored, but the replay counts it)
	"write",           // runc: writes the exec fifo and its debug log; Go runtime: netpoller wake-up
}

// runtimeSyscallsWithoutNNP is what runc additionally does under the filter
// when no-new-privileges is off (finalizeNamespace, the parent-death signal,
// the parent check and the entrypoint lookup), and the little crun adds to it.
// Sorted.
var runtimeSyscallsWithoutNNP = []string{
	"capget",      // moby/sys/capability loads the current sets before changing them
	"capset",      // drops the capabilities the container does not keep
	"chdir",       // the container's working directory
	"close_range", // CloseExecFrom marks inherited fds close-on-exec with CLOSE_RANGE_CLOEXEC
	"faccessat",   // eaccess falls back to access(2) (x/sys faccessat) when faccessat2 is refused
	"faccessat2",  // eaccess checks the entrypoint is executable
	"fchown",      // crun: exec hands the standard streams to the process's user (EPERM is ignored, but the replay counts it)
	"getcwd",      // verifyCwd: the working directory must be inside the container
	"getegid",     // eaccess's set-gid check
	"geteuid",     // eaccess's set-uid check
	"getgid",      // eaccess's set-gid check
	"getppid",     // the check that runc's parent did not die meanwhile
	"getuid",      // eaccess's set-uid check
	"kill",        // SIGKILL to itself when the parent changed
	"prctl",       // PR_SET_KEEPCAPS, PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_SET_PDEATHSIG
	"pselect6",    // crun: the container's init waits on the exec fifo with select(), which glibc makes pselect6; refused, the start fails
	"setgid",      // the container's group (Go runs it on every thread)
	"setgroups",   // supplementary groups
	"setresgid",   // the container's group, where runc uses the res form
	"setresuid",   // the container's user, where runc uses the res form
	"setuid",      // the container's user (Go runs it on every thread)
	"statx",       // crun: exec checks that /proc/self/setgroups exists before setgroups; refused, the exec fails
}

// ArchRuntimeSyscalls are runtime system calls that exist on one architecture
// only, keyed by Recording.Arch. Each list is sorted.
var ArchRuntimeSyscalls = map[string][]string{
	"amd64": {
		"arch_prctl", // Go runtime: a new thread sets its TLS base (settls); glibc start-up does the same
	},
}

// RuntimeSyscalls returns the system calls the container runtime makes after
// installing the seccomp filter, up to and including the final execve, for
// the given no-new-privileges setting and any architecture. Sorted, unique.
func RuntimeSyscalls(noNewPrivileges bool) []string {
	out := slices.Clone(runtimeSyscallsAfterFilter)
	if !noNewPrivileges {
		out = append(out, runtimeSyscallsWithoutNNP...)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
