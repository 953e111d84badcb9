package profiles

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// moduleSyscalls load kernel modules.
var moduleSyscalls = []string{"init_module", "finit_module"}

// moduleLoaders are the programs that load kernel modules, by file name.
var moduleLoaders = map[string]bool{"modprobe": true, "insmod": true}

// recordingWarnings lists what the trace run showed that no grant in the
// override can carry: writes to /sys and module loading.
func recordingWarnings(rec Recording) []string {
	var out []string

	var sys, other []string
	for _, w := range rec.ReadonlyWrites {
		entry := fmt.Sprintf("%s (%s)", w.Path, plural(w.Count, "time", "times"))
		if w.Path == "/sys" || strings.HasPrefix(w.Path, "/sys/") {
			sys = append(sys, entry)
		} else {
			other = append(other, entry)
		}
	}
	sort.Strings(sys)
	sort.Strings(other)
	if len(sys) > 0 {
		out = append(out, "the service opened "+strings.Join(sys, ", ")+" for writing and got EROFS in the trace run, and the workload passed without the write: "+
			"/sys is read-only without privileged (and was in this trace run, whose host could not start the service privileged; where privileged works, "+
			"the replay's verification lists the writes the override refuses). "+
			"If the service needs it, set the value on the host (a udev rule, or a systemd-tmpfiles `w` line) rather than making /sys writable; "+
			"a writable bind mount of one file (volumes: [\"/sys/PATH:/sys/PATH:rw\"]) writes the host's sysfs, not a namespaced one")
	}
	if len(other) > 0 {
		out = append(out, "the service opened "+strings.Join(other, ", ")+" for writing and got EROFS (a read-only file system) in the trace run, and the workload passed without the write")
	}

	notes := map[string][]string{}
	for _, c := range rec.Sysctls {
		if c.Note != "" {
			notes[c.Note] = append(notes[c.Note], c.Key)
		}
	}
	for note, keys := range notes {
		sort.Strings(keys)
		out = append(out, "sysctls "+strings.Join(keys, ", ")+": "+note)
	}

	var loads []string
	for _, s := range rec.Syscalls {
		for _, m := range moduleSyscalls {
			if s.Name == m {
				loads = append(loads, fmt.Sprintf("%s (%s)", m, plural(s.Count, "call", "calls")))
			}
		}
	}
	for _, e := range rec.Execs {
		if moduleLoaders[path.Base(e.Path)] {
			loads = append(loads, "executed "+e.Path)
		}
	}
	sort.Strings(loads)
	if len(loads) > 0 {
		out = append(out, "the service tried to load kernel modules ("+strings.Join(loads, ", ")+"): load them on the host instead "+
			"(modprobe NAME, and list them in /etc/modules-load.d/ for boot) and do not grant SYS_MODULE, which lets the container put any code into the host's kernel")
	}
	return out
}

// hotplugDevice describes device numbers whose nodes are re-created when
// the hardware is plugged again or its bus resets, often with another
// minor number.
type hotplugDevice struct {
	kind string
	// dir is the directory the nodes appear in, to bind-mount; empty when
	// they appear directly in /dev.
	dir string
}

// hotplugMajors are character device majors of hot-plugged hardware
// (Documentation/admin-guide/devices.txt).
var hotplugMajors = map[uint32]hotplugDevice{
	13:  {"input device", "/dev/input"},
	81:  {"video4linux device", ""},
	166: {"USB modem (ACM)", ""},
	180: {"USB character device", "/dev/usb"},
	188: {"USB serial adapter", ""},
	189: {"USB device", "/dev/bus/usb"},
}

// deviceWarnings says, for each granted device of hot-plugged hardware,
// that devices: passes only the node present at start, and offers a
// device cgroup rule instead.
func deviceWarnings(grants []DeviceGrant, uses []DeviceUse) []string {
	granted := map[string]string{}
	for _, g := range grants {
		granted[g.HostPath] = g.Access
	}
	var out []string
	seen := map[string]bool{}
	for _, d := range uses {
		hp, ok := hotplugMajors[d.Major]
		access, isGranted := granted[d.Path]
		if !ok || d.Type != "c" || !isGranted || seen[d.Path] {
			continue
		}
		seen[d.Path] = true
		rule := fmt.Sprintf("c %d:* %s", d.Major, access)
		w := fmt.Sprintf("%s (c %d:%d) is a %s: its node is re-created when the device is plugged in again or its bus resets, often with another minor number, and devices: passes only the node present at start. "+
			"To keep access across that, replace the devices: entry with device_cgroup_rules: [%q]", d.Path, d.Major, d.Minor, hp.kind, rule)
		if hp.dir != "" {
			w += fmt.Sprintf(" and volumes: [\"%s:%s\"]", hp.dir, hp.dir)
		} else {
			w += " and a bind mount of the directory the node appears in (or a udev rule giving it a stable name)"
		}
		out = append(out, w)
	}
	return out
}

// propagationWarnings says what mounts made below a shared bind mount need
// without privileged, when the service mounted anything.
func propagationWarnings(p Policy, shared []string) []string {
	if len(shared) == 0 {
		return nil
	}
	mounts := false
	for _, s := range []string{"mount", "fsmount", "move_mount"} {
		if _, ok := slices.BinarySearch(p.Syscalls, s); ok {
			mounts = true
		}
	}
	if !mounts {
		return nil
	}
	list := slices.Clone(shared)
	sort.Strings(list)
	return []string{"the service mounts file systems and has bind mounts with propagation " + strings.Join(list, ", ") +
		": mounts made below them reach the host without privileged too, as long as the host path is a shared mount " +
		"(check with findmnt -o TARGET,PROPAGATION); on AppArmor hosts the mount itself also needs security_opt `apparmor=unconfined` or a profile of your own"}
}
