//go:build linux && cgo

package profiles

import (
	"testing"

	libseccomp "github.com/seccomp/libseccomp-golang"
)

// Every name capprof adds on its own must exist where it is added, or the
// validator would reject capprof's own profiles.
func TestRuntimeSyscallsResolve(t *testing.T) {
	for arch := range archMaps {
		a, err := libseccomp.GetArchFromString(arch)
		if err != nil {
			t.Fatal(err)
		}
		names := append(RuntimeSyscalls(false), FallbackSyscalls...)
		names = append(names, ArchRuntimeSyscalls[arch]...)
		for _, name := range names {
			if n, err := libseccomp.GetSyscallFromNameByArch(name, a); err != nil || n < 0 {
				t.Errorf("%s: %q does not resolve (%d, %v)", arch, name, n, err)
			}
		}
	}
}
