//go:build linux && (amd64 || arm64)

package tracer

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/capprof/capprof/internal/testutil"
	"github.com/capprof/capprof/profiles"
)

// Capability numbers from include/uapi/linux/capability.h, beside those of
// tracer_linux_test.go.
const (
	capSysPtrace = 19
	capSyslog    = 34
)

// TestNoiseSitesInKallsyms ties profiles' table of no-audit call sites to the
// running kernel: a frame the kernel no longer has (renamed, inlined, gone)
// would never match again, and its checks would turn into grants unnoticed.
func TestNoiseSitesInKallsyms(t *testing.T) {
	testutil.RequireRoot(t)
	syms, err := LoadKernelSymbols()
	if err != nil {
		t.Fatal(err)
	}
	if syms.Len() == 0 {
		t.Fatal("no kernel symbols with addresses in /proc/kallsyms")
	}
	// Names as stacks normalize them: "do_jit.cold" is do_jit.
	have := map[string]bool{}
	for _, s := range syms.syms {
		name, _, _ := strings.Cut(s.name, ".")
		have[name] = true
	}
	for _, site := range profiles.NoiseSites() {
		if site.Arch != "" && site.Arch != runtime.GOARCH {
			continue
		}
		t.Run(site.Frames[0], func(t *testing.T) {
			found := 0
			for _, f := range site.Frames {
				switch {
				case have[f]:
					found++
				case slices.Contains(site.Inlined, f):
					t.Logf("%s is inlined here, as the table says", f)
				default:
					t.Errorf("%s (%s, %s) is not in /proc/kallsyms and not documented as inlined: update profiles' noiseSites for this kernel", f, site.Capability, site.Source)
				}
			}
			if found == 0 {
				t.Errorf("no frame of the site %v is in /proc/kallsyms: its checks cannot be recognized", site.Frames)
			}
		})
	}
}

// TestNoiseSitesEndToEnd makes each kind of no-audit check in a container
// beside a chown, and checks that profiles.ClassifyCheck files every one of
// them under its site, that none would be granted, and that CAP_CHOWN still
// would. The stacks in the comments were recorded on Linux 6.18 (x86-64).
func TestNoiseSitesEndToEnd(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	image := probeImage(t)
	tr := startTracer(t)

	tests := []struct {
		name string
		// step is capprobe's mode that makes the checks.
		step string
		// capability is what the checks ask for.
		capability int
		// paths are frames of the system calls the step makes, found without
		// the table: every check of capability under one of them is the
		// step's, and each path must show at least one.
		paths []string
		// class and sites are what ClassifyCheck must say of those checks;
		// each site must be seen.
		class profiles.NoiseClass
		sites []string
	}{
		{
			// cap_capable < security_capable < ns_capable_noaudit < do_seccomp
			//   < do_syscall_64
			// cap_capable < security_capable < ns_capable_noaudit < do_jit <
			//   bpf_int_jit_compile < bpf_prog_select_runtime < bpf_prepare_filter
			//   < bpf_prog_create_from_user < do_seccomp < do_syscall_64
			name:       "seccomp filter without no_new_privs",
			step:       "seccomp",
			capability: capSysAdmin,
			paths:      []string{"do_seccomp"},
			class:      profiles.NoiseNoAudit,
			sites:      jitSites("do_seccomp"),
		},
		{
			// cap_capable < security_capable < ns_capable_noaudit <
			//   __do_sys_landlock_restrict_self < do_syscall_64
			name:       "landlock ruleset without no_new_privs",
			step:       "landlock",
			capability: capSysAdmin,
			paths:      []string{"__do_sys_landlock_restrict_self"},
			class:      profiles.NoiseNoAudit,
			sites:      []string{"__do_sys_landlock_restrict_self"},
		},
		{
			// cap_capable < security_capable < ns_capable_noaudit <
			//   __ptrace_may_access < ptrace_may_access < do_task_stat <
			//   proc_single_show < seq_read_iter < seq_read < vfs_read < ksys_read
			name:       "/proc/PID/stat of another user",
			step:       "stat-other-uid",
			capability: capSysPtrace,
			paths:      []string{"ksys_read"},
			class:      profiles.NoiseNoAudit,
			sites:      []string{"do_task_stat"},
		},
		{
			// cap_capable < security_capable < kallsyms_show_value <
			//   kallsyms_open < proc_reg_open < do_dentry_open < vfs_open <
			//   path_openat < do_filp_open < do_sys_openat2 < __x64_sys_openat
			name:       "/proc/kallsyms",
			step:       "kallsyms",
			capability: capSyslog,
			paths:      []string{"do_sys_openat2"},
			class:      profiles.NoiseNoAudit,
			sites:      []string{"kallsyms_show_value"},
		},
		{
			// cap_capable < security_capable < ns_capable_noaudit <
			//   simple_xattr_list < listxattr < path_listxattrat < do_syscall_64
			name:       "listxattr on tmpfs",
			step:       "listxattr",
			capability: capSysAdmin,
			paths:      []string{"listxattr"},
			class:      profiles.NoiseNoAudit,
			sites:      []string{"simple_xattr_list"},
		},
		{
			// cap_capable < security_vm_enough_memory_mm < __mmap_region <
			//   do_mmap < vm_mmap_pgoff < do_syscall_64
			// cap_capable < security_vm_enough_memory_mm < dup_mmap <
			//   copy_process < kernel_clone < __do_sys_clone < do_syscall_64
			name:       "memory accounting of mmap and fork",
			step:       "vm",
			capability: capSysAdmin,
			paths:      []string{"vm_mmap_pgoff", "dup_mmap"},
			class:      profiles.NoiseVMAccounting,
			sites:      []string{"security_vm_enough_memory_mm"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctr := runProbeWithCaps(t, tr, image, "chown", tt.step)
			seenPath := map[string]bool{}
			seenSite := map[string]bool{}
			for _, c := range ctr.CapChecks {
				if !c.Workload || c.Comm != probeComm || c.Cap != tt.capability {
					continue
				}
				i := slices.IndexFunc(tt.paths, func(p string) bool { return hasFrame(c, p) })
				if i < 0 {
					continue
				}
				seenPath[tt.paths[i]] = true
				class, site, noise := profiles.ClassifyCheck(c.Cap, c.Workload, c.ForeignCred, c.Stack)
				seenSite[site] = true
				if !noise || class != tt.class || !slices.Contains(tt.sites, site) {
					t.Errorf("ClassifyCheck = (%q, %q, %v), want %s at one of %v for\n  %s",
						class, site, noise, tt.class, tt.sites, strings.Join(c.Stack, " < "))
				}
			}
			for _, p := range tt.paths {
				if !seenPath[p] {
					t.Errorf("no workload check of capability %d under %s: capprobe %s made none", tt.capability, p, tt.step)
				}
			}
			for _, s := range tt.sites {
				if !seenSite[s] {
					t.Errorf("no check classified at %s", s)
				}
			}
			grants := probeGrants(t, ctr)
			if slices.Contains(grants, composeName(tt.capability)) {
				t.Errorf("cap_add = %v: %s would be granted", grants, composeName(tt.capability))
			}
			if !slices.Contains(grants, "CHOWN") {
				t.Errorf("cap_add = %v: the chown's CHOWN is a need in the same run", grants)
			}
		})
	}
}

// TestAuditedPtraceCheckIsANeed reads /proc/PID/environ of another user: the
// same ptrace_may_access as /proc/PID/stat's, asked without
// PTRACE_MODE_NOAUDIT, so it is a need. It keeps the ptrace site from being
// recognized by ptrace_has_cap or ptrace_may_access.
func TestAuditedPtraceCheckIsANeed(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	image := probeImage(t)
	tr := startTracer(t)

	// cap_capable < security_capable < ns_capable < __ptrace_may_access <
	//   ptrace_may_access < mm_access < proc_mem_open < environ_open <
	//   do_dentry_open < vfs_open < path_openat
	ctr := runProbeWithCaps(t, tr, image, "environ-other-uid")
	var checks int
	for _, c := range ctr.CapChecks {
		if !c.Workload || c.Comm != probeComm || c.Cap != capSysPtrace || !hasFrame(c, "environ_open") {
			continue
		}
		checks++
		if class, site, noise := profiles.ClassifyCheck(c.Cap, c.Workload, c.ForeignCred, c.Stack); noise {
			t.Errorf("ClassifyCheck = (%q, %q, noise) for an audited ptrace check:\n  %s", class, site, strings.Join(c.Stack, " < "))
		}
	}
	if checks == 0 {
		t.Fatal("no CAP_SYS_PTRACE check under environ_open")
	}
	if grants := probeGrants(t, ctr); !slices.Contains(grants, "SYS_PTRACE") {
		t.Errorf("cap_add = %v, want SYS_PTRACE among them", grants)
	}
}

// jitSites returns the sites of a seccomp filter's checks: the classic BPF
// JIT's own where the kernel has the x86 one.
func jitSites(sites ...string) []string {
	if runtime.GOARCH == "amd64" {
		return append(sites, "do_jit")
	}
	return sites
}

// runProbeWithCaps runs capprobe's steps in a new container with
// SYS_ADMIN, SYS_PTRACE and SYSLOG added to Docker's default set, so that
// the kernel's opportunistic checks pass as under privileged (this host's
// bounding set may lack some capability, so not --cap-add ALL), and without
// a seccomp profile, as capprof's trace run. It returns what the tracer saw
// of that container.
func runProbeWithCaps(t *testing.T, tr *Tracer, image string, steps ...string) *Snapshot {
	t.Helper()
	hostname := randomHostname(t)
	args := []string{"run", "--rm", "--network", "none", "--hostname", hostname,
		"--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE", "--cap-add", "SYSLOG",
		"--security-opt", "seccomp=unconfined", image}
	out := dockerRun(t, append(args, steps...)...)
	t.Logf("capprobe %s:\n%s", strings.Join(steps, " "), out)
	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	ctr := snap.ForNodename(hostname)
	if len(ctr.Namespaces) == 0 {
		t.Fatalf("no mount namespace with nodename %q", hostname)
	}
	return ctr
}

// probeGrants returns the cap_add profiles.NewPolicy decides from the
// container's workload checks, classified as capprof's profiler does.
func probeGrants(t *testing.T, ctr *Snapshot) []string {
	t.Helper()
	uses := map[int]*profiles.CapabilityUse{}
	for _, c := range ctr.CapChecks {
		if _, _, noise := profiles.ClassifyCheck(c.Cap, c.Workload, c.ForeignCred, c.Stack); noise {
			continue
		}
		u := uses[c.Cap]
		if u == nil {
			u = &profiles.CapabilityUse{Capability: profiles.CapName(c.Cap)}
			uses[c.Cap] = u
		}
		if c.Denied {
			u.Denied += c.Count
		} else {
			u.Granted += c.Count
		}
	}
	rec := profiles.Recording{Service: "capprobe", Arch: runtime.GOARCH}
	for _, u := range uses {
		rec.Capabilities = append(rec.Capabilities, *u)
	}
	policy, err := profiles.NewPolicy(rec, profiles.PolicyOptions{})
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	var grants []string
	for _, g := range policy.CapAdd {
		grants = append(grants, g.Capability)
	}
	return grants
}

// composeName is a capability as cap_add writes it ("SYS_ADMIN").
func composeName(capability int) string {
	return strings.TrimPrefix(profiles.CapName(capability), "CAP_")
}
