//go:build linux && cgo

package profiles

import (
	"fmt"

	libseccomp "github.com/seccomp/libseccomp-golang"
)

// syscallOnArch reports whether arch (a key of archMaps) has a system call
// called name, as the libseccomp capprof is built with knows it. The set of
// names per architecture comes from libseccomp alone: it is what the
// runtime's libseccomp resolves when it compiles the profile.
func syscallOnArch(arch, name string) (bool, error) {
	a, err := libseccomp.GetArchFromString(arch)
	if err != nil {
		return false, fmt.Errorf("%w: %q: %v", ErrUnknownArch, arch, err)
	}
	// A negative number is one of libseccomp's pseudo-syscalls: a name it
	// knows from other architectures that this one does not have.
	n, err := libseccomp.GetSyscallFromNameByArch(name, a)
	return err == nil && n >= 0, nil
}
