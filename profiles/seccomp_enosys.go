package profiles

import (
	"errors"
	"fmt"
)

// FallbackSyscalls are system calls that libc, language runtimes or common
// tools probe and fall back from when the kernel answers ENOSYS, the answer
// of a kernel too old to have them. An EPERM instead reads as a real failure
// and is often fatal (glibc ≥ 2.34 cannot start threads when clone3 gets
// EPERM). When the workload was not seen making one, the profile answers
// ENOSYS for it, so that a code path the trace run did not take still falls
// back. Each entry names who probes it and what that caller does instead; a
// call whose ENOSYS would break a caller that EPERM leaves working has no
// place here. Sorted.
//
// The profile names only those libseccomp knows for the profile's
// architecture (fallbackSyscalls): an older libseccomp cannot put a newer
// name into a filter.
var FallbackSyscalls = []string{
	"cachestat",               // util-linux fincore (≥ 2.40) asks for page-cache state, falls back to mmap and mincore
	"clone3",                  // glibc (≥ 2.34) creates threads with it and falls back to clone
	"close_range",             // glibc closefrom, Python subprocess and systemd fall back to closing each fd listed in /proc/self/fd
	"epoll_pwait2",            // systemd's sd-event waits with a nanosecond timeout, falls back to epoll_wait
	"faccessat2",              // glibc faccessat with flags (≥ 2.33) and Go's x/sys fall back to faccessat plus fstatat
	"fchmodat2",               // glibc fchmodat with AT_SYMLINK_NOFOLLOW (≥ 2.39) falls back to an O_PATH descriptor and /proc/self/fd
	"fsopen",                  // libmount (util-linux ≥ 2.39) and systemd mount through the new mount API, fall back to mount(2)
	"fspick",                  // libmount reconfigures a mount through the new mount API, falls back to mount(2) with MS_REMOUNT
	"futex_waitv",             // Proton's Wine (fsync) waits on several futexes at once, falls back to esync or server-side waits
	"landlock_create_ruleset", // sandboxing programs (Landlock in best-effort mode) ask the ABI version, run without the sandbox
	"map_shadow_stack",        // glibc with shadow stacks (x86 CET ≥ 2.39, arm64 GCS) maps a thread's shadow stack; ENOSYS is "no shadow stacks"
	"mount_setattr",           // libmount and systemd set mount attributes (read-only, idmapped), fall back to a remount
	"open_tree",               // libmount bind-mounts through the new mount API, falls back to mount(2) with MS_BIND
	"openat2",                 // runc ≥ 1.2, systemd and libpathrs resolve paths with RESOLVE_* flags, fall back to openat walks
	"pidfd_getfd",             // CRIU probes it at start (kerndat) and takes descriptors through its parasite code instead
	"pidfd_open",              // Go's os (≥ 1.23) and systemd probe pidfd support, fall back to waiting and signalling by pid
	"pidfd_send_signal",       // Go's os (≥ 1.23) and systemd signal through a pidfd, fall back to kill
	"preadv2",                 // glibc preadv2 with no flags falls back to preadv
	"pwritev2",                // glibc pwritev2 with no flags falls back to pwritev
	"renameat2",               // coreutils mv (gnulib renameatu) renames with RENAME_NOREPLACE, falls back to renameat after a lstat check
	"rseq",                    // glibc (≥ 2.35) registers restartable sequences at thread start and runs without them
	"statx",                   // glibc statx() emulates it with fstatat; Rust's std falls back to fstatat
}

// fallbackSyscalls returns the FallbackSyscalls that arch has and that
// allowed does not allow already: the names a profile for arch answers
// ENOSYS. Built without libseccomp it cannot tell what arch has and keeps
// every name; ValidateSeccomp then says the profile went unchecked.
func fallbackSyscalls(arch string, allowed map[string]bool) ([]string, error) {
	var out []string
	for _, name := range FallbackSyscalls {
		if allowed[name] {
			continue
		}
		ok, err := syscallOnArch(arch, name)
		if errors.Is(err, ErrNoLibseccomp) {
			ok = true
		} else if err != nil {
			return nil, fmt.Errorf("ENOSYS list: %w", err)
		}
		if ok {
			out = append(out, name)
		}
	}
	return out, nil
}
