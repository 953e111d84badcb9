package profiles

import (
	"slices"
	"strings"
)

// NoiseSite is one kernel call site whose capability checks are no needs of
// a service under the generated override: the kernel asks only to choose
// between two outcomes that both let the operation succeed, or asks only in
// a case the override rules out (no_new_privs unset). It says so by
// checking with CAP_OPT_NOAUDIT (no audit record, no AppArmor or SELinux
// denial); the capability:cap_capable tracepoint does not carry that
// option, so a site is known by its frames.
type NoiseSite struct {
	// Frames are the kernel functions that identify the site in a stack, any
	// one of them: each makes this check (or calls what makes it) and no
	// other check of Capability, except where a site of its own lies deeper
	// (do_seccomp's filter is JIT-compiled under do_jit): the innermost
	// identifying frame wins. A function that makes the check both ways
	// (ptrace_has_cap, for every ptrace_may_access) is never one: the caller
	// that asks for no audit is.
	Frames []string
	// Inlined are the Frames that Linux 6.18 (the kernel the table was
	// checked on) compiles into their caller, so that they have no symbol of
	// their own there; they are kept for kernels that do not.
	Inlined []string
	// Arch is the GOARCH whose kernel has these frames ("amd64" for the x86
	// BPF JIT), empty when every architecture's has.
	Arch string
	// Capability is the capability the site checks ("CAP_SYS_PTRACE"); a
	// check of another capability under the same frames is not this site's.
	Capability string
	// Class is the noise class its checks get.
	Class NoiseClass
	// Source is the kernel file that makes the check.
	Source string
	// Why says what the answer decides and why the workload does not need it.
	Why string
	// WithoutNoNewPrivs marks a check the kernel makes only for a task
	// without no_new_privs: noise under no-new-privileges, a need when the
	// override leaves it off (NewPolicy grants it then).
	WithoutNoNewPrivs bool
}

// noiseSites are the no-audit call sites a container's workload reaches,
// established from the kernel's callers of CAP_OPT_NOAUDIT (security_capable
// and cap_capable called with it, and the callers of ns_capable_noaudit and
// has_capability_noaudit) and from the stacks seen on Linux 6.18, recorded
// in the tracer's end-to-end tests (tracer/noisesite_linux_test.go).
//
// Most of them pass through a *_noaudit helper on 6.18, which the generic
// rule in ClassifyCheck knows too: the table then names the caller as the
// site, which says more than "ns_capable_noaudit". It is needed where no
// helper is on the stack: kallsyms_show_value and the memory accounting call
// security_capable and cap_capable directly, and before Linux 5.10
// ptrace_has_cap did too.
//
// Considered and left out: ptracer_capable (kernel/capability.c) checks, with
// the tracer's credentials, CAP_SYS_PTRACE for a traced exec that gains
// privilege and for PTRACE_PEEK* of a tracee that is not dumpable: without it
// the exec does not gain the privilege and the peek fails, so it is a need.
// The namespaced sysctl hooks (net_ctl_permissions asks through
// ns_capable_noaudit) are NoiseSysctlWrite. Other callers of the *_noaudit
// helpers (overlayfs listing trusted.* xattrs, fanotify_init, arm64's BPF
// JIT) are left to the generic rule.
var noiseSites = []NoiseSite{
	{
		// cap_capable < security_vm_enough_memory_mm < __mmap_region (mmap),
		// dup_mmap (fork), do_brk_flags, expand_downwards, insert_vm_struct
		// (exec). cap_vm_enough_memory tail-calls cap_capable on 6.18.
		Frames:     []string{"security_vm_enough_memory_mm", "cap_vm_enough_memory", "__vm_enough_memory"},
		Capability: "CAP_SYS_ADMIN",
		Class:      NoiseVMAccounting,
		Source:     "security/commoncap.c (cap_vm_enough_memory), security/security.c",
		Why: "every fork, exec and private writable mmap, mprotect or brk is charged against the overcommit " +
			"limit; the answer only sizes the reserve kept back for administrators (admin_reserve_kbytes), " +
			"which matters in strict overcommit close to the limit",
	},
	{
		// cap_capable < security_capable < ns_capable_noaudit < do_seccomp
		// (seccomp(2); prctl(PR_SET_SECCOMP) calls do_seccomp too).
		Frames:     []string{"do_seccomp", "seccomp_set_mode_filter", "seccomp_prepare_filter"},
		Inlined:    []string{"seccomp_set_mode_filter", "seccomp_prepare_filter"},
		Capability: "CAP_SYS_ADMIN",
		Class:      NoiseNoAudit,
		Source:     "kernel/seccomp.c",
		Why: "asked only when a seccomp filter is installed without no_new_privs, which fails with EACCES " +
			"without it; the override sets no-new-privileges, under which the kernel does not ask. " +
			"Where the override leaves no-new-privileges off it is a need, and NewPolicy grants it",
		WithoutNoNewPrivs: true,
	},
	{
		// cap_capable < security_capable < ns_capable_noaudit < do_jit <
		// bpf_int_jit_compile < bpf_prog_select_runtime < bpf_prepare_filter
		// < bpf_prog_create_from_user < do_seccomp
		Frames:     []string{"do_jit"},
		Arch:       "amd64",
		Capability: "CAP_SYS_ADMIN",
		Class:      NoiseNoAudit,
		Source:     "arch/x86/net/bpf_jit_comp.c",
		Why: "JIT-compiling a classic BPF program (a seccomp filter, a socket filter such as tcpdump's or " +
			"dhclient's) asks whether to end it with a Spectre-BHB barrier, added for unprivileged loaders; " +
			"the program loads and runs either way",
	},
	{
		// cap_capable < security_capable < ns_capable_noaudit <
		// __do_sys_landlock_restrict_self
		Frames:     []string{"__do_sys_landlock_restrict_self"},
		Capability: "CAP_SYS_ADMIN",
		Class:      NoiseNoAudit,
		Source:     "security/landlock/syscalls.c",
		Why: "asked only when a Landlock ruleset is enforced without no_new_privs, which fails with EPERM " +
			"without it; the override sets no-new-privileges, under which the kernel does not ask. " +
			"Where the override leaves no-new-privileges off it is a need, and NewPolicy grants it",
		WithoutNoNewPrivs: true,
	},
	{
		// cap_capable < security_capable < ns_capable_noaudit <
		// __ptrace_may_access < ptrace_may_access < do_task_stat <
		// proc_single_show < seq_read_iter
		Frames:     []string{"do_task_stat"},
		Capability: "CAP_SYS_PTRACE",
		Class:      NoiseNoAudit,
		Source:     "fs/proc/array.c (ptrace_may_access with PTRACE_MODE_NOAUDIT, kernel/ptrace.c)",
		Why: "reading /proc/PID/stat of another user's process (ps, top, pgrep) asks only whether to show " +
			"its code, stack and instruction addresses and its wait channel, which read as 0 or 1 " +
			"otherwise; the read succeeds",
	},
	{
		// cap_capable < security_capable < kallsyms_show_value <
		// kallsyms_open < proc_reg_open < do_dentry_open: no *_noaudit frame.
		Frames:     []string{"kallsyms_show_value"},
		Capability: "CAP_SYSLOG",
		Class:      NoiseNoAudit,
		Source:     "kernel/ksyms_common.c",
		Why: "opening /proc/kallsyms or /proc/modules (or reading a BPF program's JIT addresses) asks only " +
			"whether to show kernel addresses, which read as zeros otherwise (kptr_restrict 1, or 0 with " +
			"perf_event_paranoid above 1); the read succeeds. A program that resolves kernel addresses " +
			"itself needs CAP_SYSLOG all the same, and its replay does not fail without it",
	},
	{
		// Not seen on this host, whose kptr_restrict is 0; from the source:
		// has_capability_noaudit < restricted_pointer < pointer < vsnprintf
		Frames:     []string{"restricted_pointer"},
		Capability: "CAP_SYSLOG",
		Class:      NoiseNoAudit,
		Source:     "lib/vsprintf.c (has_capability_noaudit)",
		Why: "with kptr_restrict 1, printing a %pK pointer (the socket addresses in /proc/net/tcp, " +
			"/proc/net/unix, /proc/net/netlink that netstat reads) asks only whether to print or zero it",
	},
	{
		// cap_capable < security_capable < ns_capable_noaudit <
		// simple_xattr_list < listxattr < path_listxattrat (shmem_listxattr
		// tail-calls simple_xattr_list).
		Frames:     []string{"simple_xattr_list"},
		Capability: "CAP_SYS_ADMIN",
		Class:      NoiseNoAudit,
		Source:     "fs/xattr.c",
		Why: "listing the extended attributes of a tmpfs or kernfs file (ls -l, cp -a, tar, rsync -X on " +
			"/dev/shm or /tmp) asks only whether to include trusted.* names; the list succeeds without them",
	},
}

// NoiseSites returns a copy of the table of no-audit call sites ClassifyCheck
// knows, for the tests that hold it against a running kernel.
func NoiseSites() []NoiseSite {
	out := make([]NoiseSite, len(noiseSites))
	for i, s := range noiseSites {
		s.Frames = slices.Clone(s.Frames)
		s.Inlined = slices.Clone(s.Inlined)
		out[i] = s
	}
	return out
}

// noiseSiteByFrame indexes noiseSites by frame.
var noiseSiteByFrame = func() map[string][]NoiseSite {
	m := map[string][]NoiseSite{}
	for _, s := range noiseSites {
		for _, f := range s.Frames {
			m[f] = append(m[f], s)
		}
	}
	return m
}()

// matchNoiseSite returns the innermost frame that identifies a noise site
// for capability (a kernel name), and the site's class.
func matchNoiseSite(capability string, frames []string) (NoiseClass, string, bool) {
	for _, f := range frames {
		for _, s := range noiseSiteByFrame[f] {
			if s.Capability == capability {
				return s.Class, f, true
			}
		}
	}
	return "", "", false
}

// opportunisticFrames are the functions that check a capability on every
// call but use the answer only in a rarer case, which the tracer reports on
// its own. cap_capset's only check is CAP_SETPCAP (cap_inh_is_capped, often
// inlined into it): the answer counts only for an inheritable set that grows
// beyond the inheritable and permitted sets, and the tracer's capset
// program records CAP_SETPCAP as kept exactly then.
var opportunisticFrames = map[string]bool{
	"cap_capset":        true,
	"cap_inh_is_capped": true,
}

// sysctlPermissionFrames are procfs's permission hooks for namespaced
// sysctl files; a workload check made from one is NoiseSysctlWrite.
// So are the write handlers of namespaced sysctls that check a capability
// themselves (devinet_sysctl_forward: CAP_NET_ADMIN for ip_forward and
// conf.*.forwarding): only a write through a writable /proc/sys reaches them.
var sysctlPermissionFrames = map[string]bool{
	"net_ctl_permissions":     true,
	"ipc_permissions":         true,
	"mq_permissions":          true,
	"devinet_sysctl_forward":  true,
	"devinet_conf_proc":       true,
	"addrconf_sysctl_forward": true,
}

// capPlumbingFrames are the functions between a caller and the capability
// decision. They say nothing about why a capability was wanted, so a site is
// the first frame outside them.
var capPlumbingFrames = map[string]bool{
	"cap_capable":                   true,
	"cap_capable_helper":            true,
	"__cap_capable":                 true,
	"security_capable":              true,
	"apparmor_capable":              true,
	"selinux_capable":               true,
	"cred_has_capability":           true,
	"bpf_lsm_capable":               true,
	"capable":                       true,
	"ns_capable":                    true,
	"ns_capable_common":             true,
	"ns_capable_setid":              true,
	"ns_capable_noaudit":            true,
	"file_ns_capable":               true,
	"has_capability":                true,
	"has_capability_noaudit":        true,
	"has_ns_capability":             true,
	"has_ns_capability_noaudit":     true,
	"capable_wrt_inode_uidgid":      true,
	"privileged_wrt_inode_uidgid":   true,
	"inode_owner_or_capable":        true,
	"netlink_capable":               true,
	"netlink_ns_capable":            true,
	"netlink_net_capable":           true,
	"__netlink_ns_capable":          true,
	"sk_capable":                    true,
	"sk_ns_capable":                 true,
	"sk_net_capable":                true,
	"bpf_capable":                   true,
	"perfmon_capable":               true,
	"checkpoint_restore_ns_capable": true,
	"bpf_token_capable":             true,
}

// ClassifyCheck decides whether one capability check is noise and why.
//
// capability is the checked capability's number (CAP_CHOWN is 0). workload
// is false for checks made by the container runtime's init before it
// executed the entrypoint (or an exec'd command); foreignCred is true when the
// check used credentials other than the task's own. stack holds symbolized
// kernel frames, innermost first, as a BPF stack walk returns them; offsets
// ("+0x1a") and compiler suffixes (".isra.0") are ignored.
//
// site names the evidence: the frame that identified the noise class, or for
// a need (and for runtime and foreign-cred noise) the first frame that is not
// capability plumbing, e.g. "tun_set_iff" or "__x64_sys_mount".
func ClassifyCheck(capability int, workload, foreignCred bool, stack []string) (class NoiseClass, site string, noise bool) {
	frames := make([]string, 0, len(stack))
	for _, f := range stack {
		if f = normalizeFrame(f); f != "" {
			frames = append(frames, f)
		}
	}
	caller := firstCaller(frames)
	// The kernel's own reasons come first: they say why a check is noise
	// whoever made it. (The memory-accounting checks made while the kernel
	// loads the entrypoint's ELF come before the exec that makes the process
	// a workload; they belong to vm-accounting, not to the runtime's set-up.)
	// The known no-audit sites before the generic rule, so that the site
	// names the caller rather than a *_noaudit helper.
	if class, frame, ok := matchNoiseSite(CapName(capability), frames); ok {
		return class, frame, true
	}
	// A workload's check from a namespaced sysctl file's permission hook:
	// sysctls: carries the value now, and with /proc/sys read-only the
	// write cannot happen whatever the capabilities (see NoiseSysctlWrite).
	// The runtime's own writes of compose sysctls stay runtime-setup.
	if workload {
		for _, f := range frames {
			if sysctlPermissionFrames[f] {
				return NoiseSysctlWrite, f, true
			}
		}
	}
	// Any other caller that asked for no audit through a helper.
	for _, f := range frames {
		if strings.HasSuffix(f, "_noaudit") {
			return NoiseNoAudit, f, true
		}
	}
	if !workload {
		return NoiseRuntimeSetup, caller, true
	}
	// After runtime setup: runc's and crun's own capset stays theirs.
	for _, f := range frames {
		if opportunisticFrames[f] {
			return NoiseOpportunistic, f, true
		}
	}
	if foreignCred {
		return NoiseForeignCred, caller, true
	}
	return "", caller, false
}

// normalizeFrame strips what a symbolizer adds to a function name so frames
// compare by function: "ns_capable_noaudit+0x12/0x30 [kernel]" and
// "tun_set_iff.isra.0" become "ns_capable_noaudit" and "tun_set_iff".
func normalizeFrame(f string) string {
	f = strings.TrimSpace(f)
	if i := strings.IndexAny(f, " \t"); i >= 0 {
		f = f[:i]
	}
	if i := strings.IndexByte(f, '+'); i >= 0 {
		f = f[:i]
	}
	if i := strings.IndexByte(f, '.'); i > 0 {
		f = f[:i]
	}
	return f
}

// firstCaller returns the innermost frame that is neither capability
// plumbing, nor the BPF program or trampoline that took the stack, nor an
// address the symbolizer could not name.
func firstCaller(frames []string) string {
	for _, f := range frames {
		switch {
		case capPlumbingFrames[f],
			strings.HasPrefix(f, "bpf_prog_"),
			strings.HasPrefix(f, "bpf_trampoline_"),
			strings.HasPrefix(f, "0x"),
			strings.HasPrefix(f, "["):
			continue
		}
		return f
	}
	return ""
}

// withoutNoNewPrivsSite says whether a noise site's check is made only for
// tasks without no_new_privs (see NoiseSite.WithoutNoNewPrivs).
func withoutNoNewPrivsSite(site, capability string) bool {
	for _, ns := range noiseSites {
		if ns.WithoutNoNewPrivs && ns.Capability == capability && slices.Contains(ns.Frames, site) {
			return true
		}
	}
	return false
}
