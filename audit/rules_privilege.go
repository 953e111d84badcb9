package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// privilegeRules: privileged mode and capabilities.
//
// Capabilities are compared by capabilityName, so that cap_sys_admin,
// SYS_ADMIN and CAP_SYS_ADMIN are one capability, as Docker reads them.
// cap_drop does not take back what cap_add names (Docker adds cap_add after
// dropping, unless cap_add holds ALL), so the cap_add rules ignore cap_drop;
// nor do they skip privileged services: each finding stands for a setting
// that has to go, and removing privileged: true leaves the others in force.
var privilegeRules = []Rule{
	{
		ID:       "privileged",
		Severity: High,
		Title:    "privileged mode",
		Why:      "privileged gives every capability, every host device and writable /sys: root in the container is root on the host",
		Fix:      "run capprof profile to get the least-privilege override",
		Fields:   []string{"privileged"},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			if !svc.Privileged {
				return nil
			}
			return []Hit{{Key: "privileged", Index: -1, Message: "privileged: true"}}
		},
	},
	{
		ID:       "build-privileged",
		Severity: High,
		Title:    "image built with privilege",
		Why:      "build.privileged and the security.insecure entitlement run the image's RUN steps privileged on the builder: a Dockerfile or a base image someone else controls becomes root on that host",
		Fix:      "build without privilege; do what needed it (mounts, device access) at run time, where capprof profile can measure it",
		Fields:   []string{"build"},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			if svc.Build == nil {
				return nil
			}
			var hits []Hit
			if svc.Build.Privileged {
				hits = append(hits, Hit{Key: "build.privileged", Index: -1, Subject: "privileged", Message: "build.privileged: true"})
			}
			if i := slices.IndexFunc(svc.Build.Entitlements, func(e string) bool { return strings.TrimSpace(e) == "security.insecure" }); i >= 0 {
				hits = append(hits, Hit{Key: "build.entitlements", Item: scalarEquals("security.insecure"), Index: i, Subject: "security.insecure", Message: "build.entitlements: security.insecure"})
			}
			return hits
		},
	},
	{
		ID:       "cap-add-all",
		Severity: High,
		Title:    "every capability added",
		Why:      "cap_add: ALL hands the container every capability, SYS_ADMIN and SYS_MODULE among them: as good as privileged for escaping to the host",
		Fix:      "add only the capabilities the service needs (capprof profile lists them), after cap_drop: [ALL]",
		Fields:   []string{"cap_add"},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			i := slices.IndexFunc(svc.CapAdd, func(c string) bool { return capabilityName(c) == "ALL" })
			if i < 0 {
				return nil
			}
			return []Hit{{Key: "cap_add", Item: capabilityIs("ALL"), Index: i, Subject: "ALL", Message: "cap_add: " + strings.TrimSpace(svc.CapAdd[i])}}
		},
	},
	{
		ID:       "cap-add-dangerous",
		Severity: High,
		Title:    "dangerous capability added",
		Why:      "each of these capabilities reaches past the container's namespaces into the kernel or the host; the finding says what it allows",
		Fix:      "drop the capability; if the service truly needs it, record why in x-capprof.accept and keep cap_drop: [ALL]",
		Fields:   []string{"cap_add"},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			var hits []Hit
			seen := map[string]bool{}
			for i, c := range svc.CapAdd {
				name := capabilityName(c)
				risk, ok := dangerousCapabilities[name]
				if !ok || seen[name] {
					continue
				}
				// compose-go merges cap_add by exact text, so cap_sys_admin
				// and SYS_ADMIN may both be left: one finding per capability.
				seen[name] = true
				hits = append(hits, Hit{
					Key:      "cap_add",
					Item:     capabilityIs(name),
					Index:    i,
					Subject:  name,
					Message:  fmt.Sprintf("cap_add: %s allows %s", name, risk.allows),
					Severity: risk.severity,
				})
			}
			return hits
		},
	},
	{
		ID:             "cap-drop-all-missing",
		Severity:       Medium,
		Title:          "default capabilities not dropped",
		Why:            "Docker's default set stays: CHOWN, DAC_OVERRIDE, FOWNER, SETUID/SETGID, NET_RAW, MKNOD … let a compromised root process override file permissions, forge packets and make device nodes",
		Fix:            "add cap_drop: [ALL] and cap_add back only what the service needs (capprof profile finds which)",
		Fields:         []string{"cap_drop"},
		FiresOnAbsence: true,
		// Reported on privileged services too: privileged ignores cap_drop,
		// but the privileged finding's fix is what makes cap_drop count.
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			if slices.ContainsFunc(svc.CapDrop, func(c string) bool { return capabilityName(c) == "ALL" }) {
				return nil
			}
			msg := "no cap_drop: the default capabilities are kept"
			if len(svc.CapDrop) > 0 {
				msg = fmt.Sprintf("cap_drop: [%s] does not include ALL: the default capabilities it does not name are kept", strings.Join(svc.CapDrop, ", "))
			}
			return []Hit{{Key: "cap_drop", Index: -1, Message: msg}}
		},
	},
}

// capabilityRisk is what adding one capability gives the container.
type capabilityRisk struct {
	severity Severity
	// allows completes "cap_add: NAME allows …".
	allows string
}

// dangerousCapabilities are the capabilities cap-add-dangerous reports,
// by capabilityName. High: a way out to the host or into the kernel, or
// host-wide state no namespace covers (the list). Medium: host
// information or tampering short of an escape. Not listed: Docker's
// default set (DAC_OVERRIDE, SETFCAP, NET_RAW …), which is there without
// cap_add and is cap-drop-all-missing's business, and capabilities whose
// reach stays inside the container (LEASE, WAKE_ALARM, BLOCK_SUSPEND …).
var dangerousCapabilities = map[string]capabilityRisk{
	"SYS_ADMIN":       {High, "mount, namespaces, cgroup and most kernel admin interfaces: the classic escapes (release_agent, mounting the host's disk)"},
	"SYS_MODULE":      {High, "loading kernel modules: arbitrary code in the host kernel"},
	"SYS_PTRACE":      {High, "tracing and injecting code into other processes, and host ones with pid: host"},
	"SYS_RAWIO":       {High, "raw I/O ports and /dev/mem, /dev/kmem, raw disk access: reading and writing host memory and disks"},
	"DAC_READ_SEARCH": {High, "open_by_handle_at: reading any file of a host filesystem mounted in the container, outside the mount (the shocker escape)"},
	"NET_ADMIN":       {High, "reconfiguring interfaces, routes and firewall rules, and the host's own with network_mode: host"},
	"BPF":             {High, "loading BPF programs and maps: kernel memory reads with PERFMON, and a wide kernel attack surface"},
	"PERFMON":         {High, "perf events and BPF tracing: observing host processes and reading kernel memory"},
	"SYS_BOOT":        {High, "reboot and kexec_load: restarting the host or booting a kernel of the attacker's"},
	"SYS_TIME":        {High, "setting the host's clock, which no namespace isolates: breaks TLS, tokens and logs host-wide"},
	"MAC_ADMIN":       {High, "changing the MAC policy (AppArmor, SELinux, Smack): lifting the confinement meant to hold the container"},
	"MAC_OVERRIDE":    {High, "overriding MAC policy checks (Smack): ignoring the confinement meant to hold the container"},

	"SYSLOG":             {Medium, "reading and clearing the host's kernel log, and kernel addresses that defeat KASLR"},
	"AUDIT_CONTROL":      {Medium, "changing or turning off the host's audit rules: hiding what the attacker does"},
	"AUDIT_READ":         {Medium, "reading the host's audit events over netlink"},
	"CHECKPOINT_RESTORE": {Medium, "choosing PIDs and reading other processes' mapped files (/proc/PID/map_files)"},
	"LINUX_IMMUTABLE":    {Medium, "clearing the immutable and append-only flags: tampering with protected files on bind mounts"},
	"SYS_RESOURCE":       {Medium, "overriding resource limits, quotas and reserved disk space: exhausting the host"},
	"SYS_NICE":           {Medium, "real-time priorities and CPU affinity of any process: starving the host's CPUs"},
	"IPC_LOCK":           {Medium, "locking unbounded memory: exhausting the host's RAM"},
	"IPC_OWNER":          {Medium, "bypassing permission checks on System V IPC objects, the host's with ipc: host"},
}

// capabilityName returns a capability the way Docker compares them: upper
// case, without the CAP_ prefix, so that cap_sys_admin is SYS_ADMIN and
// CAP_ALL is ALL.
func capabilityName(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.TrimPrefix(s, "CAP_")
}

// capabilityIs matches the cap_add or cap_drop item naming the capability,
// however it is spelt there.
func capabilityIs(name string) func(Item) bool {
	return func(it Item) bool {
		v, ok := it.Scalar()
		return ok && capabilityName(v) == name
	}
}
