package profiles

import (
	"slices"
	"testing"
)

// The system calls libc and language runtimes probe and fall back from are
// answered ENOSYS when the workload was not seen making them, on every
// architecture that has them.
func TestNoSysFallbacks(t *testing.T) {
	if !libseccompAvailable {
		t.Skip("built without cgo/libseccomp: which names an architecture has is unknown")
	}
	probed := []string{
		"cachestat", "clone3", "close_range", "epoll_pwait2", "faccessat2", "fchmodat2",
		"futex_waitv", "landlock_create_ruleset", "map_shadow_stack", "mount_setattr", "openat2",
		"pidfd_getfd", "pidfd_open", "pidfd_send_signal", "statx",
	}
	for _, rec := range []Recording{emptyRecording(), fuseRecording()} {
		for _, nnp := range []bool{true, false} {
			p, err := NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(nnp)})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range probed {
				if ok, err := syscallOnArch(p.Arch, name); err != nil || !ok {
					t.Logf("%s: this libseccomp does not know %s (%v): left to the default action", p.Arch, name, err)
					continue
				}
				if slices.Contains(p.NoSys, name) == slices.Contains(p.Syscalls, name) {
					t.Errorf("%s nnp=%v: %s must be either allowed or ENOSYS (allowed %v, NoSys %v)",
						p.Arch, nnp, name, slices.Contains(p.Syscalls, name), p.NoSys)
				}
			}
			// rseq is allowed for the entrypoint's glibc start-up, and
			// close_range, faccessat2 and statx for runc or crun without
			// no-new-privileges: never ENOSYS then.
			mustAllow := []string{"rseq"}
			if !nnp {
				mustAllow = append(mustAllow, "close_range", "faccessat2", "statx")
			}
			for _, name := range mustAllow {
				if slices.Contains(p.NoSys, name) {
					t.Errorf("%s nnp=%v: %s is ENOSYS, but the runtime needs it", p.Arch, nnp, name)
				}
			}
		}
	}
}

// Only names the profile's architecture has are answered ENOSYS: libseccomp
// refuses to compile a profile with any other.
func TestFallbackSyscallsFilteredByArch(t *testing.T) {
	if !libseccompAvailable {
		t.Skip("built without cgo/libseccomp: which names an architecture has is unknown")
	}
	saved := FallbackSyscalls
	defer func() { FallbackSyscalls = saved }()
	FallbackSyscalls = []string{"arch_prctl", "clone3", "not_a_syscall", "openat2"}
	tests := []struct {
		arch    string
		allowed map[string]bool
		want    []string
	}{
		{"amd64", nil, []string{"arch_prctl", "clone3", "openat2"}},
		{"arm64", nil, []string{"clone3", "openat2"}},
		{"arm64", map[string]bool{"clone3": true}, []string{"openat2"}},
	}
	for _, tt := range tests {
		got, err := fallbackSyscalls(tt.arch, tt.allowed)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("fallbackSyscalls(%s, %v) = %v, want %v", tt.arch, tt.allowed, got, tt.want)
		}
	}
}
