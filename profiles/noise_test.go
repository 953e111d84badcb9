package profiles

import "testing"

func TestClassifyCheck(t *testing.T) {
	tests := []struct {
		name        string
		workload    bool
		foreignCred bool
		stack       []string
		wantClass   NoiseClass
		wantSite    string
		wantNoise   bool
	}{
		{
			name:      "vm accounting on munmap",
			workload:  true,
			stack:     []string{"cap_capable", "security_capable", "security_vm_enough_memory_mm", "__vm_munmap", "__x64_sys_munmap"},
			wantClass: NoiseVMAccounting, wantSite: "security_vm_enough_memory_mm", wantNoise: true,
		},
		{
			name:      "vm accounting through cap_vm_enough_memory with offsets",
			workload:  true,
			stack:     []string{"cap_capable+0x5/0x90", "cap_vm_enough_memory+0x20/0x40", "mmap_region+0x1aa/0x5c0"},
			wantClass: NoiseVMAccounting, wantSite: "cap_vm_enough_memory", wantNoise: true,
		},
		{
			name:      "__vm_enough_memory",
			workload:  true,
			stack:     []string{"cap_capable", "__vm_enough_memory", "dup_mmap"},
			wantClass: NoiseVMAccounting, wantSite: "__vm_enough_memory", wantNoise: true,
		},
		{
			name:      "service's own net sysctl write",
			workload:  true,
			stack:     []string{"cap_capable", "security_capable", "ns_capable", "net_ctl_permissions", "proc_sys_permission", "inode_permission", "path_openat"},
			wantClass: NoiseSysctlWrite, wantSite: "net_ctl_permissions", wantNoise: true,
		},
		{
			name:      "net sysctl check through ns_capable_noaudit is still sysctl-write",
			workload:  true,
			stack:     []string{"cap_capable", "security_capable", "ns_capable_noaudit", "net_ctl_permissions+0x1c/0x60", "proc_sys_permission"},
			wantClass: NoiseSysctlWrite, wantSite: "net_ctl_permissions", wantNoise: true,
		},
		{
			name:      "ip_forward's write handler",
			workload:  true,
			stack:     []string{"cap_capable", "security_capable", "ns_capable", "devinet_sysctl_forward", "proc_sys_call_handler", "vfs_write"},
			wantClass: NoiseSysctlWrite, wantSite: "devinet_sysctl_forward", wantNoise: true,
		},
		{
			name:      "ipc sysctl write",
			workload:  true,
			stack:     []string{"cap_capable", "checkpoint_restore_ns_capable", "ipc_permissions", "proc_sys_permission"},
			wantClass: NoiseSysctlWrite, wantSite: "ipc_permissions", wantNoise: true,
		},
		{
			name:      "runtime writing compose sysctls stays runtime setup",
			workload:  false,
			stack:     []string{"cap_capable", "ns_capable", "net_ctl_permissions", "proc_sys_permission"},
			wantClass: NoiseRuntimeSetup, wantSite: "net_ctl_permissions", wantNoise: true,
		},
		{
			name:      "ns_capable_noaudit",
			workload:  true,
			stack:     []string{"cap_capable", "security_capable", "ns_capable_noaudit", "proc_pid_permission"},
			wantClass: NoiseNoAudit, wantSite: "ns_capable_noaudit", wantNoise: true,
		},
		{
			name:      "has_ns_capability_noaudit with isra suffix",
			workload:  true,
			stack:     []string{"cap_capable", "security_capable", "has_ns_capability_noaudit.isra.0", "ptrace_has_cap"},
			wantClass: NoiseNoAudit, wantSite: "has_ns_capability_noaudit", wantNoise: true,
		},
		{
			name:      "has_capability_noaudit",
			workload:  true,
			stack:     []string{"cap_capable", "has_capability_noaudit", "oom_badness"},
			wantClass: NoiseNoAudit, wantSite: "has_capability_noaudit", wantNoise: true,
		},
		{
			name:      "runtime setup wins over everything",
			workload:  false,
			stack:     []string{"cap_capable", "security_capable", "ns_capable", "__x64_sys_mount"},
			wantClass: NoiseRuntimeSetup, wantSite: "__x64_sys_mount", wantNoise: true,
		},
		{
			name:      "vm accounting before the exec is vm accounting, not runtime setup",
			workload:  false,
			stack:     []string{"cap_capable", "security_vm_enough_memory_mm", "setup_arg_pages", "load_elf_binary"},
			wantClass: NoiseVMAccounting, wantSite: "security_vm_enough_memory_mm", wantNoise: true,
		},
		{
			name:      "runtime setup's own checks",
			workload:  false,
			stack:     []string{"cap_capable", "security_capable", "ns_capable", "path_mount", "__x64_sys_mount"},
			wantClass: NoiseRuntimeSetup, wantSite: "path_mount", wantNoise: true,
		},
		{
			name:      "capset's inheritable-set check (dnsmasq, chronyd, setpriv)",
			workload:  true,
			stack:     []string{"cap_capable", "security_capable", "cap_capset", "security_capset", "__do_sys_capset", "do_syscall_64"},
			wantClass: NoiseOpportunistic, wantSite: "cap_capset", wantNoise: true,
		},
		{
			name:      "capset's check with cap_inh_is_capped not inlined",
			workload:  true,
			stack:     []string{"cap_capable+0x5/0x90", "cap_inh_is_capped.isra.0", "cap_capset+0x3c/0x120", "security_capset"},
			wantClass: NoiseOpportunistic, wantSite: "cap_inh_is_capped", wantNoise: true,
		},
		{
			name:      "runc's and crun's capset stays runtime setup",
			workload:  false,
			stack:     []string{"cap_capable", "security_capable", "cap_capset", "security_capset", "__do_sys_capset"},
			wantClass: NoiseRuntimeSetup, wantSite: "cap_capset", wantNoise: true,
		},
		{
			name:        "overlayfs with the mounter's credentials",
			workload:    true,
			foreignCred: true,
			stack:       []string{"cap_capable", "security_capable", "ns_capable", "ovl_xattr_get", "ovl_lookup"},
			wantClass:   NoiseForeignCred, wantSite: "ovl_xattr_get", wantNoise: true,
		},
		{
			name:      "need: tun_set_iff",
			workload:  true,
			stack:     []string{"cap_capable", "security_capable", "ns_capable", "netlink_ns_capable", "tun_set_iff", "__tun_chr_ioctl"},
			wantClass: "", wantSite: "tun_set_iff", wantNoise: false,
		},
		{
			name:      "need: mount syscall under bpf trampoline frames",
			workload:  true,
			stack:     []string{"bpf_prog_6deef7357e7b4530_on_cap", "bpf_trampoline_6442452", "cap_capable", "security_capable", "capable", "__x64_sys_mount"},
			wantClass: "", wantSite: "__x64_sys_mount", wantNoise: false,
		},
		{
			name:      "need: capable_wrt_inode_uidgid is plumbing",
			workload:  true,
			stack:     []string{"cap_capable", "security_capable", "ns_capable", "capable_wrt_inode_uidgid", "generic_permission"},
			wantClass: "", wantSite: "generic_permission", wantNoise: false,
		},
		{
			name:      "need without a stack",
			workload:  true,
			stack:     nil,
			wantClass: "", wantSite: "", wantNoise: false,
		},
		{
			name:      "need with unsymbolized frames",
			workload:  true,
			stack:     []string{"cap_capable", "0xffffffffc0a1b2c3", "[unknown]", "  sk_attach_filter+0x10  "},
			wantClass: "", wantSite: "sk_attach_filter", wantNoise: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, site, noise := ClassifyCheck(tt.workload, tt.foreignCred, tt.stack)
			if class != tt.wantClass || site != tt.wantSite || noise != tt.wantNoise {
				t.Errorf("ClassifyCheck() = (%q, %q, %v), want (%q, %q, %v)", class, site, noise, tt.wantClass, tt.wantSite, tt.wantNoise)
			}
		})
	}
}
