//go:build linux && cgo

package profiles

import (
	"slices"
	"testing"

	libseccomp "github.com/seccomp/libseccomp-golang"
)

func resolves(t *testing.T, arch, name string) bool {
	t.Helper()
	a, err := libseccomp.GetArchFromString(arch)
	if err != nil {
		t.Fatal(err)
	}
	n, err := libseccomp.GetSyscallFromNameByArch(name, a)
	return err == nil && n >= 0
}

// The replacement table is only for names arm64 lacks, and names what both
// architectures have.
func TestLegacySyscallsTable(t *testing.T) {
	for old, repl := range legacySyscalls {
		if !resolves(t, "amd64", old) {
			t.Errorf("%s is not an amd64 system call", old)
		}
		if resolves(t, "arm64", old) {
			t.Errorf("%s exists on arm64: it needs no replacement", old)
		}
		if len(repl) == 0 {
			t.Errorf("%s: no replacement (leave it out to drop it)", old)
		}
		for _, r := range repl {
			for arch := range archMaps {
				if !resolves(t, arch, r) {
					t.Errorf("%s's replacement %s is not a system call on %s", old, r, arch)
				}
			}
		}
	}
}

// Every name a translated profile allows or answers ENOSYS exists on the
// target, as libseccomp knows it, whatever the recording held.
func TestForArchEmitsOnlyTargetNames(t *testing.T) {
	rec := amd64Recording()
	for old := range legacySyscalls {
		rec.Syscalls = append(rec.Syscalls, SyscallUse{Name: old, Count: 1})
	}
	for _, x86 := range []string{"ioperm", "modify_ldt", "set_thread_area", "get_thread_area", "_sysctl", "uselib", "ustat"} {
		rec.Syscalls = append(rec.Syscalls, SyscallUse{Name: x86, Count: 1})
	}
	for _, nnp := range []bool{true, false} {
		p, err := NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(nnp)})
		if err != nil {
			t.Fatal(err)
		}
		arm, err := p.ForArch("arm64")
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range append(append([]string{}, arm.Syscalls...), arm.NoSys...) {
			if !resolves(t, "arm64", name) {
				t.Errorf("nnp=%v: %s is in the arm64 profile but not an arm64 system call", nnp, name)
			}
		}
		for _, s := range RuntimeSyscalls(nnp) {
			if !slices.Contains(arm.Syscalls, s) {
				t.Errorf("nnp=%v: runtime syscall %s missing on arm64", nnp, s)
			}
		}
		for _, x86 := range []string{"arch_prctl", "iopl", "ioperm", "modify_ldt", "set_thread_area", "get_thread_area"} {
			if !slices.Contains(arm.Translation.Dropped, x86) {
				t.Errorf("nnp=%v: %s not listed as dropped: %v", nnp, x86, arm.Translation.Dropped)
			}
		}
		js, err := arm.SeccompProfile("")
		if err != nil {
			t.Fatal(err)
		}
		if err := ValidateSeccomp(js); err != nil {
			t.Errorf("nnp=%v: %v", nnp, err)
		}
	}
}
