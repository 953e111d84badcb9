package profiles

import (
	"slices"
	"sort"
	"testing"
)

func TestRuntimeSyscallListsSortedUnique(t *testing.T) {
	lists := map[string][]string{
		"runtimeSyscallsAfterFilter": runtimeSyscallsAfterFilter,
		"runtimeSyscallsWithoutNNP":  runtimeSyscallsWithoutNNP,
		"FallbackSyscalls":           FallbackSyscalls,
		"RuntimeSyscalls(true)":      RuntimeSyscalls(true),
		"RuntimeSyscalls(false)":     RuntimeSyscalls(false),
	}
	for arch, l := range ArchRuntimeSyscalls {
		lists["ArchRuntimeSyscalls["+arch+"]"] = l
	}
	for name, l := range lists {
		t.Run(name, func(t *testing.T) {
			if !sort.StringsAreSorted(l) {
				t.Errorf("not sorted: %v", l)
			}
			if len(slices.Compact(slices.Clone(l))) != len(l) {
				t.Errorf("duplicates: %v", l)
			}
			for _, s := range l {
				if !syscallName.MatchString(s) {
					t.Errorf("%q is not a syscall name", s)
				}
			}
		})
	}
	for arch := range ArchRuntimeSyscalls {
		if _, ok := archMaps[arch]; !ok {
			t.Errorf("ArchRuntimeSyscalls has %q, which has no archMap", arch)
		}
	}
}

func TestRuntimeSyscallsByNoNewPrivileges(t *testing.T) {
	on, off := RuntimeSyscalls(true), RuntimeSyscalls(false)
	// Without these the container hangs or spins instead of starting or failing.
	for _, s := range []string{"execve", "exit", "exit_group", "futex", "rt_sigreturn"} {
		for name, l := range map[string][]string{"on": on, "off": off} {
			if !slices.Contains(l, s) {
				t.Errorf("no-new-privileges %s: %s missing", name, s)
			}
		}
	}
	// The early filter (no-new-privileges off) also sees runc drop privileges.
	for _, s := range []string{"capset", "setgroups", "setuid", "setgid", "setresuid", "setresgid", "prctl", "chdir", "getppid"} {
		if slices.Contains(on, s) {
			t.Errorf("no-new-privileges on: %s listed, but runc makes it before installing the filter", s)
		}
		if !slices.Contains(off, s) {
			t.Errorf("no-new-privileges off: %s missing", s)
		}
	}
	for _, s := range on {
		if !slices.Contains(off, s) {
			t.Errorf("%s is needed with no-new-privileges but not without", s)
		}
	}
	for _, l := range [][]string{on, off} {
		if slices.Contains(l, "clone3") {
			t.Error("clone3 must not be allowed by the runtime list: Go never uses it and glibc needs ENOSYS for it")
		}
	}
}

// crun makes these under its filter (measured with crun 1.8.1 under Docker
// 20.10, see runtime_syscalls.go); without them a replay under crun fails.
func TestRuntimeSyscallsCoverCrun(t *testing.T) {
	on, off := RuntimeSyscalls(true), RuntimeSyscalls(false)
	for _, s := range []string{"umask", "close", "execve"} {
		if !slices.Contains(on, s) {
			t.Errorf("no-new-privileges on: %s missing (crun exec)", s)
		}
	}
	for _, s := range []string{"pselect6", "statx", "fchown"} {
		if slices.Contains(on, s) {
			t.Errorf("no-new-privileges on: %s listed, but crun makes it before installing the filter", s)
		}
		if !slices.Contains(off, s) {
			t.Errorf("no-new-privileges off: %s missing (crun)", s)
		}
	}
}
