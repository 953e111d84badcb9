package profiler

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"

	"github.com/capprof/capprof/profiles"
)

// legacyEngineRejects are capabilities that Docker engines before 23.0 refuse
// by name although the kernel knows them. The kernel accepts CAP_SYS_ADMIN in
// their place (perfmon_capable, bpf_capable, checkpoint_restore_ns_capable).
var legacyEngineRejects = []string{"CAP_BPF", "CAP_CHECKPOINT_RESTORE", "CAP_PERFMON"}

// engineRejects returns the capabilities the engine of that version refuses.
func engineRejects(dockerVersion string) []string {
	major, _, _ := strings.Cut(dockerVersion, ".")
	n, err := strconv.Atoi(major)
	if err != nil || n >= 23 {
		return nil
	}
	return legacyEngineRejects
}

// HostDevice is one device node under the host's /dev.
type HostDevice struct {
	Path  string
	Type  string // "c" or "b"
	Major uint32
	Minor uint32
}

// defaultDevices are the nodes every container gets without asking, keyed
// "type major:minor"; the pseudo-terminal slaves (136:*) are matched by major.
var defaultDevices = map[string]bool{
	"c 1:3": true, "c 1:5": true, "c 1:7": true, "c 1:8": true, "c 1:9": true,
	"c 5:0": true, "c 5:1": true, "c 5:2": true,
}

// isDefaultDevice reports whether a container has that node without a grant.
func isDefaultDevice(typ string, major, minor uint32) bool {
	if typ == "c" && major == 136 {
		return true
	}
	return defaultDevices[fmt.Sprintf("%s %d:%d", typ, major, minor)]
}

// hostDevices lists the character and block nodes under root (the host's
// /dev), skipping pseudo-terminals, shared memory and message queues, sorted by path.
func hostDevices(root string) ([]HostDevice, error) {
	var devs []HostDevice
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			return nil
		}
		if d.IsDir() {
			switch strings.TrimPrefix(path, root) {
			case "/pts", "/shm", "/mqueue":
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeDevice == 0 {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return nil
		}
		typ := "b"
		if d.Type()&fs.ModeCharDevice != 0 {
			typ = "c"
		}
		devs = append(devs, HostDevice{Path: path, Type: typ, Major: unix.Major(uint64(st.Rdev)), Minor: unix.Minor(uint64(st.Rdev))})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list host devices in %s: %w", root, err)
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i].Path < devs[j].Path })
	return devs, nil
}

// TracePrivilege is what the trace run grants the service in place of
// `privileged: true` when the host cannot start a privileged container, and
// what it had to leave out.
type TracePrivilege struct {
	// Emulate is set when the host lacks a capability privileged mode
	// would grant, so that runc cannot start a privileged container; the
	// trace run then grants the rest explicitly.
	Emulate bool
	// Capabilities are names without CAP_, as compose writes them.
	Capabilities []string
	Devices      []HostDevice
	// NotGranted says, one line each, what privileged would give but the
	// trace run cannot, and why.
	NotGranted []string
}

// tracePrivilege computes the emulation of privileged mode on this host:
// every capability in the bounding set that the engine accepts by name, every
// host device, and no seccomp, AppArmor, SELinux labels or masked paths.
// supported are the capabilities the running kernel knows, bounding those of
// them in capprof's bounding set.
func tracePrivilege(dockerVersion string, supported []capability.Cap, bounding map[capability.Cap]bool, devices []HostDevice) (TracePrivilege, error) {
	rejected := map[string]bool{}
	for _, c := range engineRejects(dockerVersion) {
		rejected[c] = true
	}
	var tp TracePrivilege
	for _, c := range supported {
		name := profiles.CapName(int(c))
		switch {
		case !bounding[c]:
			tp.Emulate = true
			tp.NotGranted = append(tp.NotGranted, fmt.Sprintf("%s: not in this host's capability bounding set", name))
		case rejected[name]:
			tp.NotGranted = append(tp.NotGranted, fmt.Sprintf("%s: Docker %s refuses it by name; CAP_SYS_ADMIN, which is granted, covers its checks", name, dockerVersion))
		default:
			tp.Capabilities = append(tp.Capabilities, strings.TrimPrefix(name, "CAP_"))
		}
	}
	for _, d := range devices {
		if !isDefaultDevice(d.Type, d.Major, d.Minor) {
			tp.Devices = append(tp.Devices, d)
		}
	}
	tp.NotGranted = append(tp.NotGranted, "/sys: mounted read-only (privileged mounts it read-write; compose cannot ask for that without privileged)")
	sort.Strings(tp.Capabilities)
	return tp, nil
}

// boundingSet reads the capabilities the running kernel supports and which
// of them are in this process's bounding set.
func boundingSet() ([]capability.Cap, map[capability.Cap]bool, error) {
	supported, err := capability.ListSupported()
	if err != nil {
		return nil, nil, fmt.Errorf("list the kernel's capabilities: %w", err)
	}
	caps, err := capability.NewPid2(0)
	if err != nil {
		return nil, nil, fmt.Errorf("read capability bounding set: %w", err)
	}
	if err := caps.Load(); err != nil {
		return nil, nil, fmt.Errorf("read capability bounding set: %w", err)
	}
	set := map[capability.Cap]bool{}
	for _, c := range supported {
		if caps.Get(capability.BOUNDING, c) {
			set[c] = true
		}
	}
	return supported, set, nil
}

// kernelRelease returns uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// requireRoot fails early with what to do when capprof is not root.
func requireRoot() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("capprof profile loads eBPF programs: run it as root (sudo capprof profile …)")
	}
	return nil
}
