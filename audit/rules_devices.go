package audit

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// deviceRules: devices, device_cgroup_rules and sysctls.
var deviceRules = []Rule{
	{
		ID:       "device",
		Severity: Medium,
		Title:    "host device mapped",
		Why:      "a host device is reached past the container's filesystem and namespaces: a disk gives every file on it, memory devices the kernel, others the hardware they drive",
		Fix:      "map only the device the service drives, with the permissions it needs (/dev/ttyUSB0:/dev/ttyUSB0:rw); never a disk: mount the files it needs as a volume",
		Fields:   []string{"devices"},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			var hits []Hit
			for i, d := range svc.Devices {
				if d.Source == "" {
					// An unset variable: the YAML walk reports it.
					continue
				}
				sev, what := deviceSeverity(d.Source)
				perms := d.Permissions
				if perms == "" {
					perms = "rwm"
				}
				msg := fmt.Sprintf("devices: %s → %s (%s)", d.Source, d.Target, perms)
				if !strings.HasPrefix(d.Source, "/") && strings.Contains(d.Source, "=") {
					// A CDI device (vendor.com/class=name): the runtime
					// maps what its spec lists, not a path.
					msg = "devices: " + d.Source + ": a CDI device, the host devices its spec lists"
				}
				if what != "" {
					msg += ": " + what
				}
				hits = append(hits, Hit{
					Key:      "devices",
					Item:     itemWithTarget("devices", d.Target),
					Index:    i,
					Subject:  path.Clean(d.Target),
					Message:  msg,
					Severity: sev,
				})
			}
			return hits
		},
	},
	{
		ID:       "gpu",
		Severity: Low,
		Title:    "host GPU given",
		Why:      "the container drives the host's GPUs through their kernel driver, a large interface to the kernel, and a GPU runtime mounts host driver files into it",
		Fix:      "give GPUs only to the service that computes on them, by device_ids rather than all; accept it in x-capprof with the reason",
		Fields:   []string{"gpus", "deploy"},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			var hits []Hit
			if len(svc.Gpus) > 0 {
				hits = append(hits, Hit{Key: "gpus", Index: -1, Subject: "gpus", Message: "gpus: " + gpuRequest(svc.Gpus)})
			}
			if d := svc.Deploy; d != nil && d.Resources.Reservations != nil {
				for i, r := range d.Resources.Reservations.Devices {
					if !slices.Contains(r.Capabilities, "gpu") {
						continue
					}
					hits = append(hits, Hit{
						Key:     "deploy.resources.reservations.devices",
						Index:   i,
						Subject: "gpu " + strings.Join(r.IDs, ","),
						Message: "deploy.resources.reservations.devices: " + gpuRequest([]types.DeviceRequest{r}),
					})
				}
			}
			return hits
		},
	},
	{
		ID:       "device-cgroup-rule",
		Severity: Medium,
		Title:    "device cgroup rule",
		Why:      "the rule lets the container open every host device of those numbers, which it can create with mknod as Docker allows: no devices: entry limits it",
		Fix:      "map the device under devices: instead, or narrow the rule to the one major:minor the service drives",
		Fields:   []string{"device_cgroup_rules"},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			var hits []Hit
			for i, rule := range svc.DeviceCgroupRules {
				sev, what, ok := cgroupRuleSeverity(rule)
				if !ok {
					continue
				}
				hits = append(hits, Hit{
					Key:      "device_cgroup_rules",
					Item:     scalarEquals(rule),
					Index:    i,
					Subject:  strings.Join(strings.Fields(rule), " "),
					Message:  fmt.Sprintf("device_cgroup_rules: %s: %s", rule, what),
					Severity: sev,
				})
			}
			return hits
		},
	},
	{
		ID:       "sysctl-risky",
		Severity: Medium,
		Title:    "risky sysctl",
		Why:      "the sysctl weakens the host, when it is not namespaced, or the container's network: it opens a way in or through that the kernel's default keeps shut",
		Fix:      "remove the sysctl; a host-wide setting belongs to the host's configuration, not to a service",
		Fields:   []string{"sysctls"},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			var hits []Hit
			for _, name := range slices.Sorted(maps.Keys(svc.Sysctls)) {
				if strings.TrimSpace(name) == "" {
					// An unset variable for the name: indeterminate.
					continue
				}
				value := svc.Sysctls[name]
				sev, why, ok := sysctlSeverity(name, value)
				if !ok {
					continue
				}
				hits = append(hits, Hit{
					Key:      "sysctls",
					Item:     sysctlNamed(name),
					Index:    -1,
					Subject:  name,
					Message:  fmt.Sprintf("sysctls: %s=%s: %s", name, value, why),
					Severity: sev,
				})
			}
			return hits
		},
	},
}

// Host devices the device rule ranks High; every other device is Medium.
var (
	// memoryDevices are the host's physical and kernel memory and its I/O
	// ports.
	memoryDevices = []string{"/dev/mem", "/dev/kmem", "/dev/port"}
	// blockDevices are the host's disks, partitions and what is layered on
	// them (loop, device-mapper, RAID), and the SCSI generic devices that
	// send them raw commands: with one the container reads and writes the
	// host's filesystems under no permission check. A directory above them
	// (/dev, /dev/mapper) maps every device in it.
	blockDevices = []string{
		"/dev/sd*", "/dev/hd*", "/dev/vd*", "/dev/xvd*", "/dev/nvme*", "/dev/mmcblk*",
		"/dev/loop*", "/dev/dm-*", "/dev/md*", "/dev/sg*",
		"/dev/md/*", "/dev/mapper/*", "/dev/disk/*/*", "/dev/block/*",
	}
)

// deviceSeverity ranks a mapped host device and says what it is. /dev/kvm
// stays Medium: it runs virtual machines, not the host's code.
func deviceSeverity(source string) (Severity, string) {
	src := path.Clean(source)
	switch {
	case slices.Contains(memoryDevices, src):
		return High, "the host's memory or I/O ports"
	case slices.ContainsFunc(blockDevices, func(p string) bool { return pathMatches(p, src) }):
		return High, "the host's disks"
	case src != "/" && slices.ContainsFunc(blockDevices, func(p string) bool { return covers(src, p) }):
		return High, "every device in it, the host's disks among them"
	case src == "/dev/kvm":
		return Medium, "KVM: virtual machines with the host's CPU"
	}
	return Medium, ""
}

// pathMatches tells whether p matches pattern, component by component.
func pathMatches(pattern, p string) bool {
	return len(pathParts(pattern)) == len(pathParts(p)) && covers(p, pattern)
}

// cgroupRuleSeverity ranks a device cgroup rule, "type major:minor
// access", and says what it opens. A rule that grants only m (mknod)
// adds nothing to Docker's defaults, which allow mknod of every device:
// it is not reported. A rule compose-go passed on but that does not parse
// is reported Medium, as the engine may read it otherwise.
func cgroupRuleSeverity(rule string) (Severity, string, bool) {
	fields := strings.Fields(rule)
	if len(fields) == 0 {
		return None, "", false
	}
	kind := fields[0]
	major, minor := "*", "*"
	if len(fields) > 1 {
		var found bool
		if major, minor, found = strings.Cut(fields[1], ":"); !found {
			return Medium, "not a rule of the form type major:minor access", true
		}
	}
	access := "rwm"
	if len(fields) > 2 {
		access = fields[2]
	}
	if !strings.ContainsAny(access, "rw") {
		return None, "", false
	}
	switch {
	case kind == "a":
		return High, "every host device", true
	case major == "*":
		return High, "every host device of that type", true
	case kind == "b":
		return High, "host block devices: the host's disks", true
	case kind == "c" && major == "1" && slices.Contains([]string{"1", "2", "4", "*"}, minor):
		return High, "/dev/mem, /dev/kmem or /dev/port: the host's memory", true
	case kind == "c" && major == "21":
		return High, "SCSI generic devices: raw commands to the host's disks", true
	}
	return Medium, "host devices beyond the defaults", true
}

// riskySysctls are the sysctls reported, by name pattern (path.Match) and
// the value that is risky ("" for any). Not listed on purpose:
// net.ipv4.ip_unprivileged_port_start and net.ipv4.ping_group_range, which
// Docker itself sets in every container, and send_redirects, which only
// makes the container tell others of a better route.
var riskySysctls = []struct {
	pattern, value string
	sev            Severity
	why            string
}{
	{"kernel.core_pattern", "", High, "not namespaced: a |program pattern runs that program as root on the host at the next crash"},
	{"kernel.modprobe", "", High, "not namespaced: the host kernel runs this path as root to load a module"},
	{"net.ipv4.conf.*.route_localnet", "1", Medium, "packets from the network reach services bound to 127.0.0.1"},
	{"net.ipv4.conf.*.accept_source_route", "1", Low, "senders choose the route of their packets, past the container's routing"},
	{"net.ipv4.conf.*.accept_redirects", "1", Low, "ICMP redirects from the network can reroute the container's traffic"},
	{"net.ipv6.conf.*.accept_redirects", "1", Low, "ICMP redirects from the network can reroute the container's traffic"},
	{"net.ipv4.conf.*.rp_filter", "0", Low, "packets with spoofed source addresses are accepted"},
	{"net.ipv4.ip_forward", "1", Low, "the container routes between the networks it joins: a foothold in it pivots through"},
	{"net.ipv4.conf.*.forwarding", "1", Low, "the container routes between the networks it joins: a foothold in it pivots through"},
	{"net.ipv6.conf.*.forwarding", "1", Low, "the container routes between the networks it joins: a foothold in it pivots through"},
}

// namespacedSysctls are the kernel.* sysctls with a namespace of their own
// (IPC, UTS), as runc accepts them; with fs.mqueue.* and net.* they are the
// only ones a container can set without changing the host.
var namespacedSysctls = []string{
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
	"kernel.hostname", "kernel.domainname",
}

// sysctlSeverity ranks a sysctl setting and says why it is risky; ok is
// false for a harmless one.
func sysctlSeverity(name, value string) (sev Severity, why string, ok bool) {
	value = strings.TrimSpace(value)
	for _, s := range riskySysctls {
		if m, _ := path.Match(s.pattern, name); m && (s.value == "" || s.value == value) {
			return s.sev, s.why, true
		}
	}
	if slices.Contains(namespacedSysctls, name) || strings.HasPrefix(name, "fs.mqueue.") || strings.HasPrefix(name, "net.") {
		return None, "", false
	}
	return Medium, "not namespaced: a host-wide kernel setting; Docker refuses it, a runtime that applied it would change the host", true
}

// scalarEquals matches a list item whose text is want.
func scalarEquals(want string) func(Item) bool {
	return func(it Item) bool {
		s, ok := it.Scalar()
		return ok && s == want
	}
}

// sysctlNamed matches the sysctls entry setting name: a mapping key, or a
// name=value list item, split as compose splits it.
func sysctlNamed(name string) func(Item) bool {
	return func(it Item) bool {
		if k := it.Key(); k != "" {
			return k == name
		}
		s, ok := it.Scalar()
		if !ok {
			return false
		}
		k, _, _ := strings.Cut(s, "=")
		return strings.TrimSpace(k) == name
	}
}

// gpuRequest says which GPUs device requests ask for: "all GPUs", "2 GPUs",
// "GPUs 0, 1".
func gpuRequest(reqs []types.DeviceRequest) string {
	var parts []string
	for _, r := range reqs {
		switch {
		case len(r.IDs) > 0:
			parts = append(parts, "GPUs "+strings.Join(r.IDs, ", "))
		case r.Count == 1:
			parts = append(parts, "1 GPU")
		case r.Count > 1:
			parts = append(parts, fmt.Sprintf("%d GPUs", r.Count))
		default:
			parts = append(parts, "all GPUs")
		}
	}
	return strings.Join(parts, "; ")
}
