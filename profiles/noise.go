package profiles

import "strings"

// vmAccountingFrames are the memory accounting functions that ask for
// CAP_SYS_ADMIN on every fork and mmap only to pick an overcommit reserve;
// the operation succeeds either way.
var vmAccountingFrames = map[string]bool{
	"security_vm_enough_memory_mm": true,
	"cap_vm_enough_memory":         true,
	"__vm_enough_memory":           true,
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
// workload is false for checks made by the container runtime's init before it
// executed the entrypoint (or an exec'd command); foreignCred is true when the
// check used credentials other than the task's own. stack holds symbolized
// kernel frames, innermost first, as a BPF stack walk returns them; offsets
// ("+0x1a") and compiler suffixes (".isra.0") are ignored.
//
// site names the evidence: the frame that identified the noise class, or for
// a need (and for runtime and foreign-cred noise) the first frame that is not
// capability plumbing, e.g. "tun_set_iff" or "__x64_sys_mount".
func ClassifyCheck(workload, foreignCred bool, stack []string) (class NoiseClass, site string, noise bool) {
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
	// Memory accounting before no-audit: its check is not flagged no-audit on
	// every kernel, but it is never a need.
	for _, f := range frames {
		if vmAccountingFrames[f] {
			return NoiseVMAccounting, f, true
		}
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
