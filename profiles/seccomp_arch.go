package profiles

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// legacySyscalls maps the system calls that architectures on the kernel's
// generic syscall table (arm64) do not have to what their libc calls in
// their place. Which names an architecture has comes from libseccomp; this
// table only says what replaces what. The first name is the direct
// equivalent and serves the other direction too: an amd64 libc makes the
// old call for many of these where an arm64 one makes the new (musl's open,
// glibc's pipe, dup2, mkdir, unlink), so a profile translated to amd64
// allows the old call beside each recorded direct equivalent. Both forms
// grant the same.
var legacySyscalls = map[string][]string{
	"access":       {"faccessat"},
	"alarm":        {"setitimer"}, // glibc and musl implement alarm() with setitimer(ITIMER_REAL)
	"chmod":        {"fchmodat"},
	"chown":        {"fchownat"},
	"creat":        {"openat"}, // openat with O_CREAT|O_WRONLY|O_TRUNC
	"dup2":         {"dup3", "fcntl"},
	"epoll_create": {"epoll_create1"},
	"epoll_wait":   {"epoll_pwait"},
	"eventfd":      {"eventfd2"},
	"fork":         {"clone"},
	"futimesat":    {"utimensat"},
	"getdents":     {"getdents64"},
	"getpgrp":      {"getpgid"}, // getpgid(0)
	"inotify_init": {"inotify_init1"},
	"lchown":       {"fchownat"}, // with AT_SYMLINK_NOFOLLOW
	"link":         {"linkat"},
	"lstat":        {"newfstatat"}, // with AT_SYMLINK_NOFOLLOW
	"mkdir":        {"mkdirat"},
	"mknod":        {"mknodat"},
	"open":         {"openat"},
	"pause":        {"ppoll"}, // glibc: ppoll(NULL, 0, NULL, NULL)
	"pipe":         {"pipe2"},
	"poll":         {"ppoll"},
	"readlink":     {"readlinkat"},
	"rename":       {"renameat", "renameat2"},
	"rmdir":        {"unlinkat"}, // with AT_REMOVEDIR
	"select":       {"pselect6"},
	"signalfd":     {"signalfd4"},
	"stat":         {"newfstatat"},
	"symlink":      {"symlinkat"},
	"time":         {"clock_gettime"}, // read from the vDSO where there is one
	"unlink":       {"unlinkat"},
	"utime":        {"utimensat"},
	"utimes":       {"utimensat"},
	"vfork":        {"clone"}, // clone(CLONE_VM|CLONE_VFORK)
}

// Why some entries name more than one call:
//   - dup2: glibc's dup2(fd, fd) checks fd with fcntl(F_GETFL) where there is
//     no dup2, since dup3 refuses equal descriptors.
//   - rename: renameat2 too, which libcs call for rename() on ports that have
//     neither rename nor renameat; it grants what renameat grants.
//
// Names outside the table that the target does not have are dropped: they
// are x86's own (arch_prctl, iopl, ioperm, modify_ldt, set_thread_area,
// get_thread_area) or calls no libc makes any more (_sysctl, uselib, ustat).

// ArchTranslation says how a policy's system calls were carried from the
// architecture they were recorded on to another one.
type ArchTranslation struct {
	// From is the recording's architecture, To the profile's ("amd64", "arm64").
	From string `json:"from"`
	To   string `json:"to"`
	// Translated are the recorded system calls the profile allows under
	// other or further names on To, sorted by recorded name.
	Translated []SyscallTranslation `json:"translated"`
	// Dropped are recorded system calls To has nothing for (arch_prctl on
	// arm64), sorted.
	Dropped []string `json:"dropped"`
}

// SyscallTranslation is one recorded system call and what allows it on the
// target architecture.
type SyscallTranslation struct {
	// Syscall is the name as recorded.
	Syscall string `json:"syscall"`
	// Into are the names the profile allows for it on the target, sorted;
	// the recorded name is among them when the target has it.
	Into []string `json:"into"`
}

// ArchProfile is a seccomp profile written for another architecture than the
// recording's (capprof profile --arch). A replay runs on the recording's
// architecture only, so no replay ran under it.
type ArchProfile struct {
	ArchTranslation
	// SeccompPath is the profile's path relative to the project directory.
	SeccompPath string `json:"seccomp_path"`
	// SyscallsAllowed counts the profile's allowed system calls.
	SyscallsAllowed int `json:"syscalls_allowed"`
	// NoSys are the system calls it answers ENOSYS, sorted.
	NoSys []string `json:"enosys,omitempty"`
	// Verified is false: the profile was translated, not replayed.
	Verified bool `json:"verified"`
}

// ForArch returns the policy for another architecture: the system calls the
// target has stay, those it lacks become what its libc calls instead (open
// becomes openat on arm64) or are dropped when nothing replaces them
// (arch_prctl), a target that has the old calls (amd64) also allows them
// beside the recorded new ones its libc may make them for, and the
// runtime's system calls and the ENOSYS list are the target's. The seccomp path gets the architecture before its
// extension ("seccomp/web.arm64.json") and Translation says what changed.
// For the policy's own architecture it returns the policy as it is.
//
// It needs libseccomp, which knows what each architecture has; built without
// it, it returns ErrNoLibseccomp.
func (p Policy) ForArch(arch string) (Policy, error) {
	to, err := ParseArch(arch)
	if err != nil {
		return Policy{}, err
	}
	from, err := ParseArch(p.Arch)
	if err != nil {
		return Policy{}, fmt.Errorf("policy of service %q: %w", p.Service, err)
	}
	if to == from {
		return p, nil
	}
	if p.Translation != nil {
		return Policy{}, fmt.Errorf("service %q: the policy was already translated from %s to %s: translate the recorded one", p.Service, p.Translation.From, from)
	}
	has := func(name string) (bool, error) {
		ok, err := syscallOnArch(to, name)
		if err != nil {
			return false, fmt.Errorf("translate service %q to %s: %w", p.Service, to, err)
		}
		return ok, nil
	}
	// Old calls by their direct equivalent, for the other direction.
	oldFor := map[string][]string{}
	for old, repl := range legacySyscalls {
		oldFor[repl[0]] = append(oldFor[repl[0]], old)
	}

	tr := &ArchTranslation{From: from, To: to, Translated: []SyscallTranslation{}, Dropped: []string{}}
	allowed := map[string]bool{}
	for _, name := range p.Syscalls {
		var candidates []string
		ok, err := has(name)
		if err != nil {
			return Policy{}, err
		}
		if ok {
			candidates = append([]string{name}, oldFor[name]...)
		} else {
			candidates = legacySyscalls[name]
		}
		var into []string
		for _, c := range candidates {
			ok, err := has(c)
			if err != nil {
				return Policy{}, err
			}
			if ok {
				into = append(into, c)
			}
		}
		sort.Strings(into)
		into = slices.Compact(into)
		for _, s := range into {
			allowed[s] = true
		}
		switch {
		case len(into) == 0:
			tr.Dropped = append(tr.Dropped, name)
		case !slices.Equal(into, []string{name}):
			tr.Translated = append(tr.Translated, SyscallTranslation{Syscall: name, Into: into})
		}
	}
	for _, s := range RuntimeSyscalls(p.NoNewPrivileges) {
		allowed[s] = true
	}
	for _, s := range ArchRuntimeSyscalls[to] {
		allowed[s] = true
	}

	out := p
	out.Arch = to
	out.Translation = tr
	if p.SeccompPath != "" {
		out.SeccompPath = ArchSeccompPath(p.SeccompPath, to)
	}
	out.Syscalls = make([]string, 0, len(allowed))
	for s := range allowed {
		out.Syscalls = append(out.Syscalls, s)
	}
	sort.Strings(out.Syscalls)
	if out.NoSys, err = fallbackSyscalls(to, allowed); err != nil {
		return Policy{}, fmt.Errorf("translate service %q to %s: %w", p.Service, to, err)
	}
	sort.Strings(tr.Dropped)
	sort.Slice(tr.Translated, func(i, j int) bool { return tr.Translated[i].Syscall < tr.Translated[j].Syscall })
	out.Warnings = policyWarnings(out)
	return out, nil
}

// ArchProfile summarises a translated policy for the report; nil for a
// policy of the recording's own architecture.
func (p Policy) ArchProfile() *ArchProfile {
	if p.Translation == nil {
		return nil
	}
	ap := &ArchProfile{
		ArchTranslation: *p.Translation,
		SeccompPath:     p.SeccompPath,
		SyscallsAllowed: len(p.Syscalls),
		NoSys:           slices.Clone(p.NoSys),
	}
	return ap.normalized()
}

// normalized returns a copy with every list sorted and the translation's
// lists written as [] when empty, so that reports compare as bytes.
func (a *ArchProfile) normalized() *ArchProfile {
	if a == nil {
		return nil
	}
	out := *a
	out.NoSys = sortedStrings(a.NoSys)
	out.Dropped = sortedStrings(a.Dropped)
	if out.Dropped == nil {
		out.Dropped = []string{}
	}
	out.Translated = make([]SyscallTranslation, 0, len(a.Translated))
	for _, t := range a.Translated {
		out.Translated = append(out.Translated, SyscallTranslation{Syscall: t.Syscall, Into: sortedStrings(t.Into)})
	}
	sort.SliceStable(out.Translated, func(i, j int) bool { return out.Translated[i].Syscall < out.Translated[j].Syscall })
	return &out
}

// ArchSeccompPath is where the profile for arch goes beside the one at p:
// the architecture before the extension ("seccomp/web.json" becomes
// "seccomp/web.arm64.json"), so that the verified profile keeps its name.
func ArchSeccompPath(p, arch string) string {
	ext := path.Ext(p)
	return strings.TrimSuffix(p, ext) + "." + arch + ext
}
