package profiles

import (
	"slices"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
)

// Capability numbers, as the tracer reports them.
const (
	capChown            = int(capability.CAP_CHOWN)
	capDacOverride      = int(capability.CAP_DAC_OVERRIDE)
	capSetpcap          = int(capability.CAP_SETPCAP)
	capNetAdmin         = int(capability.CAP_NET_ADMIN)
	capSysPtrace        = int(capability.CAP_SYS_PTRACE)
	capSysAdmin         = int(capability.CAP_SYS_ADMIN)
	capSyslog           = int(capability.CAP_SYSLOG)
	capCheckpointRestor = int(capability.CAP_CHECKPOINT_RESTORE)
)

func TestClassifyCheck(t *testing.T) {
	tests := []struct {
		name        string
		capability  int
		workload    bool
		foreignCred bool
		stack       []string
		wantClass   NoiseClass
		wantSite    string
		wantNoise   bool
	}{
		{
			name:       "vm accounting on munmap",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "security_vm_enough_memory_mm", "__vm_munmap", "__x64_sys_munmap"},
			wantClass:  NoiseVMAccounting, wantSite: "security_vm_enough_memory_mm", wantNoise: true,
		},
		{
			name:       "vm accounting through cap_vm_enough_memory with offsets",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable+0x5/0x90", "cap_vm_enough_memory+0x20/0x40", "mmap_region+0x1aa/0x5c0"},
			wantClass:  NoiseVMAccounting, wantSite: "cap_vm_enough_memory", wantNoise: true,
		},
		{
			name:       "__vm_enough_memory",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "__vm_enough_memory", "dup_mmap"},
			wantClass:  NoiseVMAccounting, wantSite: "__vm_enough_memory", wantNoise: true,
		},
		{
			name:       "service's own net sysctl write",
			capability: capNetAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable", "net_ctl_permissions", "proc_sys_permission", "inode_permission", "path_openat"},
			wantClass:  NoiseSysctlWrite, wantSite: "net_ctl_permissions", wantNoise: true,
		},
		{
			name:       "net sysctl check through ns_capable_noaudit is still sysctl-write",
			capability: capNetAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "net_ctl_permissions+0x1c/0x60", "proc_sys_permission"},
			wantClass:  NoiseSysctlWrite, wantSite: "net_ctl_permissions", wantNoise: true,
		},
		{
			name:       "ip_forward's write handler",
			capability: capNetAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable", "devinet_sysctl_forward", "proc_sys_call_handler", "vfs_write"},
			wantClass:  NoiseSysctlWrite, wantSite: "devinet_sysctl_forward", wantNoise: true,
		},
		{
			name:       "ipc sysctl write",
			capability: capCheckpointRestor,
			workload:   true,
			stack:      []string{"cap_capable", "checkpoint_restore_ns_capable", "ipc_permissions", "proc_sys_permission"},
			wantClass:  NoiseSysctlWrite, wantSite: "ipc_permissions", wantNoise: true,
		},
		{
			name:       "runtime writing compose sysctls stays runtime setup",
			capability: capNetAdmin,
			workload:   false,
			stack:      []string{"cap_capable", "ns_capable", "net_ctl_permissions", "proc_sys_permission"},
			wantClass:  NoiseRuntimeSetup, wantSite: "net_ctl_permissions", wantNoise: true,
		},
		{
			name:       "ns_capable_noaudit",
			capability: capSysPtrace,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "proc_pid_permission"},
			wantClass:  NoiseNoAudit, wantSite: "ns_capable_noaudit", wantNoise: true,
		},
		{
			name:       "has_ns_capability_noaudit with isra suffix",
			capability: capSysPtrace,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "has_ns_capability_noaudit.isra.0", "ptrace_has_cap"},
			wantClass:  NoiseNoAudit, wantSite: "has_ns_capability_noaudit", wantNoise: true,
		},
		{
			name:       "has_capability_noaudit",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "has_capability_noaudit", "oom_badness"},
			wantClass:  NoiseNoAudit, wantSite: "has_capability_noaudit", wantNoise: true,
		},
		{
			name:       "runtime setup wins over everything",
			capability: capSysAdmin,
			workload:   false,
			stack:      []string{"cap_capable", "security_capable", "ns_capable", "__x64_sys_mount"},
			wantClass:  NoiseRuntimeSetup, wantSite: "__x64_sys_mount", wantNoise: true,
		},
		{
			name:       "vm accounting before the exec is vm accounting, not runtime setup",
			capability: capSysAdmin,
			workload:   false,
			stack:      []string{"cap_capable", "security_vm_enough_memory_mm", "setup_arg_pages", "load_elf_binary"},
			wantClass:  NoiseVMAccounting, wantSite: "security_vm_enough_memory_mm", wantNoise: true,
		},
		{
			name:       "runtime setup's own checks",
			capability: capSysAdmin,
			workload:   false,
			stack:      []string{"cap_capable", "security_capable", "ns_capable", "path_mount", "__x64_sys_mount"},
			wantClass:  NoiseRuntimeSetup, wantSite: "path_mount", wantNoise: true,
		},
		{
			name:       "capset's inheritable-set check (dnsmasq, chronyd, setpriv)",
			capability: capSetpcap,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "cap_capset", "security_capset", "__do_sys_capset", "do_syscall_64"},
			wantClass:  NoiseOpportunistic, wantSite: "cap_capset", wantNoise: true,
		},
		{
			name:       "capset's check with cap_inh_is_capped not inlined",
			capability: capSetpcap,
			workload:   true,
			stack:      []string{"cap_capable+0x5/0x90", "cap_inh_is_capped.isra.0", "cap_capset+0x3c/0x120", "security_capset"},
			wantClass:  NoiseOpportunistic, wantSite: "cap_inh_is_capped", wantNoise: true,
		},
		{
			name:       "runc's and crun's capset stays runtime setup",
			capability: capSetpcap,
			workload:   false,
			stack:      []string{"cap_capable", "security_capable", "cap_capset", "security_capset", "__do_sys_capset"},
			wantClass:  NoiseRuntimeSetup, wantSite: "cap_capset", wantNoise: true,
		},
		{
			name:        "overlayfs with the mounter's credentials",
			capability:  capSysAdmin,
			workload:    true,
			foreignCred: true,
			stack:       []string{"cap_capable", "security_capable", "ns_capable", "ovl_xattr_get", "ovl_lookup"},
			wantClass:   NoiseForeignCred, wantSite: "ovl_xattr_get", wantNoise: true,
		},
		// The no-audit sites, with the stacks seen on Linux 6.18 where the
		// tracer's end-to-end tests record them.
		{
			name:       "seccomp filter without no_new_privs",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "do_seccomp", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"},
			wantClass:  NoiseNoAudit, wantSite: "do_seccomp", wantNoise: true,
		},
		{
			name:       "classic BPF JIT of the seccomp filter: the deeper site wins",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "do_jit", "bpf_int_jit_compile", "bpf_prog_select_runtime", "bpf_prepare_filter", "bpf_prog_create_from_user", "do_seccomp", "do_syscall_64"},
			wantClass:  NoiseNoAudit, wantSite: "do_jit", wantNoise: true,
		},
		{
			name:       "classic BPF JIT of tcpdump's socket filter",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "do_jit.cold", "bpf_int_jit_compile", "bpf_prog_select_runtime", "bpf_prepare_filter", "__get_filter", "sk_attach_filter", "sk_setsockopt"},
			wantClass:  NoiseNoAudit, wantSite: "do_jit", wantNoise: true,
		},
		{
			name:       "seccomp filter with seccomp_prepare_filter not inlined",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "seccomp_prepare_filter", "seccomp_set_mode_filter", "do_seccomp", "__x64_sys_seccomp"},
			wantClass:  NoiseNoAudit, wantSite: "seccomp_prepare_filter", wantNoise: true,
		},
		{
			name:       "runc's seccomp filter is the kernel's no-audit check too",
			capability: capSysAdmin,
			workload:   false,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "do_seccomp", "do_syscall_64"},
			wantClass:  NoiseNoAudit, wantSite: "do_seccomp", wantNoise: true,
		},
		{
			name:       "landlock ruleset without no_new_privs",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "__do_sys_landlock_restrict_self", "do_syscall_64"},
			wantClass:  NoiseNoAudit, wantSite: "__do_sys_landlock_restrict_self", wantNoise: true,
		},
		{
			name:       "ps reading /proc/PID/stat of another user",
			capability: capSysPtrace,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "__ptrace_may_access", "ptrace_may_access", "do_task_stat", "proc_single_show", "seq_read_iter", "seq_read", "vfs_read", "ksys_read"},
			wantClass:  NoiseNoAudit, wantSite: "do_task_stat", wantNoise: true,
		},
		{
			name:       "/proc/PID/stat where ptrace_has_cap calls security_capable itself (before 5.10)",
			capability: capSysPtrace,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "__ptrace_may_access", "ptrace_may_access", "do_task_stat", "proc_tgid_stat", "proc_single_show"},
			wantClass:  NoiseNoAudit, wantSite: "do_task_stat", wantNoise: true,
		},
		{
			name:       "need: /proc/PID/environ of another user asks ptrace_may_access audited",
			capability: capSysPtrace,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable", "__ptrace_may_access", "ptrace_may_access", "mm_access", "proc_mem_open", "environ_open", "do_dentry_open"},
			wantClass:  "", wantSite: "__ptrace_may_access", wantNoise: false,
		},
		{
			name:       "need: audited ptrace check where ptrace_has_cap calls security_capable itself",
			capability: capSysPtrace,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "__ptrace_may_access", "ptrace_may_access", "mm_access", "proc_mem_open", "environ_open"},
			wantClass:  "", wantSite: "__ptrace_may_access", wantNoise: false,
		},
		{
			name:       "/proc/kallsyms: security_capable without a *_noaudit frame",
			capability: capSyslog,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "kallsyms_show_value", "kallsyms_open", "proc_reg_open", "do_dentry_open", "vfs_open", "path_openat"},
			wantClass:  NoiseNoAudit, wantSite: "kallsyms_show_value", wantNoise: true,
		},
		{
			name:       "need: a site's frame with another capability is not the site",
			capability: capDacOverride,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "capable_wrt_inode_uidgid", "generic_permission", "do_task_stat", "proc_single_show"},
			wantClass:  "", wantSite: "generic_permission", wantNoise: false,
		},
		{
			name:       "netstat reading /proc/net/tcp with kptr_restrict 1",
			capability: capSyslog,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "has_ns_capability_noaudit", "has_capability_noaudit", "restricted_pointer", "pointer", "vsnprintf", "seq_printf", "tcp4_seq_show"},
			wantClass:  NoiseNoAudit, wantSite: "restricted_pointer", wantNoise: true,
		},
		{
			name:       "listxattr on tmpfs",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "simple_xattr_list", "listxattr", "path_listxattrat", "do_syscall_64"},
			wantClass:  NoiseNoAudit, wantSite: "simple_xattr_list", wantNoise: true,
		},
		{
			name:       "vm accounting of a fork",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_vm_enough_memory_mm", "dup_mmap", "copy_process", "kernel_clone", "__do_sys_clone"},
			wantClass:  NoiseVMAccounting, wantSite: "security_vm_enough_memory_mm", wantNoise: true,
		},
		{
			name:       "an unknown caller of a *_noaudit helper is no-audit all the same",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable_noaudit", "ovl_listxattr", "listxattr"},
			wantClass:  NoiseNoAudit, wantSite: "ns_capable_noaudit", wantNoise: true,
		},
		{
			name:       "need: tun_set_iff",
			capability: capNetAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable", "netlink_ns_capable", "tun_set_iff", "__tun_chr_ioctl"},
			wantClass:  "", wantSite: "tun_set_iff", wantNoise: false,
		},
		{
			name:       "need: mount syscall under bpf trampoline frames",
			capability: capSysAdmin,
			workload:   true,
			stack:      []string{"bpf_prog_6deef7357e7b4530_on_cap", "bpf_trampoline_6442452", "cap_capable", "security_capable", "capable", "__x64_sys_mount"},
			wantClass:  "", wantSite: "__x64_sys_mount", wantNoise: false,
		},
		{
			name:       "need: capable_wrt_inode_uidgid is plumbing",
			capability: capDacOverride,
			workload:   true,
			stack:      []string{"cap_capable", "security_capable", "ns_capable", "capable_wrt_inode_uidgid", "generic_permission"},
			wantClass:  "", wantSite: "generic_permission", wantNoise: false,
		},
		{
			name:       "need without a stack",
			capability: capChown,
			workload:   true,
			stack:      nil,
			wantClass:  "", wantSite: "", wantNoise: false,
		},
		{
			name:       "need with unsymbolized frames",
			capability: capNetAdmin,
			workload:   true,
			stack:      []string{"cap_capable", "0xffffffffc0a1b2c3", "[unknown]", "  sk_attach_filter+0x10  "},
			wantClass:  "", wantSite: "sk_attach_filter", wantNoise: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, site, noise := ClassifyCheck(tt.capability, tt.workload, tt.foreignCred, tt.stack)
			if class != tt.wantClass || site != tt.wantSite || noise != tt.wantNoise {
				t.Errorf("ClassifyCheck() = (%q, %q, %v), want (%q, %q, %v)", class, site, noise, tt.wantClass, tt.wantSite, tt.wantNoise)
			}
		})
	}
}

// TestNoiseSitesTable holds the table to the rules its comments state.
func TestNoiseSitesTable(t *testing.T) {
	// Functions that make a check both audited and not, or that every check
	// passes through: they cannot identify a site.
	ambiguous := map[string]bool{"ptrace_has_cap": true, "__ptrace_may_access": true, "ptrace_may_access": true}
	seen := map[string]string{}
	for _, site := range NoiseSites() {
		t.Run(strings.Join(site.Frames, ","), func(t *testing.T) {
			if len(site.Frames) == 0 || site.Source == "" || site.Why == "" {
				t.Fatalf("site %+v: frames, source and why are required", site)
			}
			n, err := ParseCap(site.Capability)
			if err != nil || CapName(n) != site.Capability {
				t.Errorf("capability %q is not a kernel name (%v)", site.Capability, err)
			}
			if site.Class != NoiseVMAccounting && site.Class != NoiseNoAudit {
				t.Errorf("class %q: a kernel call site is vm-accounting or no-audit", site.Class)
			}
			for _, f := range site.Inlined {
				if !slices.Contains(site.Frames, f) {
					t.Errorf("inlined frame %q is not among the frames", f)
				}
			}
			for _, f := range site.Frames {
				if capPlumbingFrames[f] || strings.HasSuffix(f, "_noaudit") || ambiguous[f] || normalizeFrame(f) != f {
					t.Errorf("frame %q cannot identify a site", f)
				}
				key := f + " " + site.Capability
				if other, dup := seen[key]; dup {
					t.Errorf("frame %q for %s is listed twice (also under %s)", f, site.Capability, other)
				}
				seen[key] = site.Frames[0]
				// Wherever the check is made from, by the workload or the
				// runtime, the frame names the site.
				for _, workload := range []bool{true, false} {
					stack := []string{"cap_capable", "security_capable", f + "+0x4f/0x120", "do_syscall_64"}
					class, got, noise := ClassifyCheck(n, workload, false, stack)
					if class != site.Class || got != f || !noise {
						t.Errorf("workload=%v: ClassifyCheck(%s, %v) = (%q, %q, %v), want (%q, %q, true)", workload, site.Capability, stack, class, got, noise, site.Class, f)
					}
				}
			}
		})
	}
	// NoiseSites hands out a copy.
	NoiseSites()[0].Frames[0] = "changed"
	if NoiseSites()[0].Frames[0] == "changed" {
		t.Error("NoiseSites returned the table itself")
	}
}
