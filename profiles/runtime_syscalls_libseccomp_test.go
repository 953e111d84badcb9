//go:build linux && cgo

package profiles

import (
	"slices"
	"testing"

	libseccomp "github.com/seccomp/libseccomp-golang"
)

// Every name capprof adds on its own must exist where it is added, or the
// validator would reject capprof's own profiles: the runtime's lists and the
// ENOSYS list for each architecture, checked with libseccomp directly.
func TestRuntimeSyscallsResolve(t *testing.T) {
	for arch := range archMaps {
		a, err := libseccomp.GetArchFromString(arch)
		if err != nil {
			t.Fatal(err)
		}
		nosys, err := fallbackSyscalls(arch, nil)
		if err != nil {
			t.Fatal(err)
		}
		names := append(RuntimeSyscalls(false), nosys...)
		names = append(names, ArchRuntimeSyscalls[arch]...)
		for _, name := range names {
			if n, err := libseccomp.GetSyscallFromNameByArch(name, a); err != nil || n < 0 {
				t.Errorf("%s: %q does not resolve (%d, %v)", arch, name, n, err)
			}
		}
		// PITFALLS 7: without these three, glibc fails where it would fall back.
		for _, name := range []string{"clone3", "close_range", "faccessat2"} {
			if !slices.Contains(nosys, name) {
				t.Errorf("%s: %s is not in the ENOSYS list %v", arch, name, nosys)
			}
		}
	}
}
