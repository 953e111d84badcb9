package profiles

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// amd64Recording makes the calls an amd64 libc makes where arm64's makes
// others, and x86's own.
func amd64Recording() Recording {
	rec := tunRecording()
	rec.Service = "legacy"
	for _, name := range []string{"open", "stat", "dup2", "epoll_wait", "pipe", "poll", "arch_prctl", "iopl", "rename", "fork", "sendfile"} {
		rec.Syscalls = append(rec.Syscalls, SyscallUse{Name: name, Count: 1})
	}
	return rec
}

func TestForArchAmd64ToArm64(t *testing.T) {
	if !libseccompAvailable {
		t.Skip("built without cgo/libseccomp: translation needs libseccomp")
	}
	p, err := NewPolicy(amd64Recording(), PolicyOptions{NoNewPrivileges: boolPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	arm, err := p.ForArch("aarch64")
	if err != nil {
		t.Fatal(err)
	}
	if arm.Arch != "arm64" || arm.SeccompPath != "seccomp/legacy.arm64.json" {
		t.Errorf("Arch %q SeccompPath %q, want arm64 and seccomp/legacy.arm64.json", arm.Arch, arm.SeccompPath)
	}
	for _, want := range []string{"openat", "newfstatat", "dup3", "epoll_pwait", "pipe2", "ppoll", "renameat", "renameat2", "clone", "sendfile", "ioctl", "clone3"} {
		if !slices.Contains(arm.Syscalls, want) {
			t.Errorf("arm64 profile lacks %s", want)
		}
	}
	for _, gone := range []string{"open", "stat", "dup2", "epoll_wait", "pipe", "poll", "arch_prctl", "iopl", "rename", "fork"} {
		if slices.Contains(arm.Syscalls, gone) {
			t.Errorf("arm64 profile allows %s, which arm64 does not have", gone)
		}
	}
	tr := arm.Translation
	if tr == nil || tr.From != "amd64" || tr.To != "arm64" {
		t.Fatalf("Translation = %+v, want amd64 to arm64", tr)
	}
	if want := []string{"arch_prctl", "iopl"}; !slices.Equal(tr.Dropped, want) {
		t.Errorf("Dropped = %v, want %v", tr.Dropped, want)
	}
	into := map[string][]string{}
	for _, st := range tr.Translated {
		into[st.Syscall] = st.Into
	}
	for name, want := range map[string][]string{
		"open": {"openat"}, "stat": {"newfstatat"}, "dup2": {"dup3", "fcntl"}, "epoll_wait": {"epoll_pwait"},
		"pipe": {"pipe2"}, "poll": {"ppoll"}, "rename": {"renameat", "renameat2"}, "fork": {"clone"},
	} {
		if !slices.Equal(into[name], want) {
			t.Errorf("%s translated into %v, want %v", name, into[name], want)
		}
	}
	if len(tr.Translated) != 8 {
		t.Errorf("Translated = %+v, want the 8 legacy calls only", tr.Translated)
	}
	for _, s := range arm.NoSys {
		if slices.Contains(arm.Syscalls, s) {
			t.Errorf("%s is both allowed and ENOSYS", s)
		}
	}
	if !slices.IsSorted(arm.Syscalls) || !slices.IsSorted(arm.NoSys) {
		t.Error("lists not sorted")
	}
	// The recorded policy is left as it was.
	if p.Arch != "amd64" || p.Translation != nil || !slices.Contains(p.Syscalls, "open") {
		t.Errorf("ForArch changed its receiver: %s %+v", p.Arch, p.Translation)
	}
}

// An arm64 libc makes the new calls; an amd64 one may make the old ones for
// the same functions, so the amd64 profile allows both.
func TestForArchArm64ToAmd64(t *testing.T) {
	if !libseccompAvailable {
		t.Skip("built without cgo/libseccomp: translation needs libseccomp")
	}
	rec := fuseRecording()
	rec.Syscalls = append(rec.Syscalls, SyscallUse{Name: "pipe2", Count: 1}, SyscallUse{Name: "unlinkat", Count: 1}, SyscallUse{Name: "epoll_pwait", Count: 1})
	p, err := NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(false)})
	if err != nil {
		t.Fatal(err)
	}
	amd, err := p.ForArch("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"openat", "open", "creat", "clone", "fork", "vfork", "pipe2", "pipe", "unlinkat", "unlink", "rmdir", "epoll_pwait", "epoll_wait", "mount", "arch_prctl"} {
		if !slices.Contains(amd.Syscalls, want) {
			t.Errorf("amd64 profile lacks %s", want)
		}
	}
	if len(amd.Translation.Dropped) != 0 {
		t.Errorf("Dropped = %v: amd64 has every arm64 system call", amd.Translation.Dropped)
	}
	for _, st := range amd.Translation.Translated {
		if !slices.Contains(st.Into, st.Syscall) {
			t.Errorf("%s translated into %v, without itself", st.Syscall, st.Into)
		}
	}
}

func TestForArchEdges(t *testing.T) {
	p, err := NewPolicy(tunRecording(), PolicyOptions{NoNewPrivileges: boolPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	same, err := p.ForArch("x86_64")
	if err != nil || same.Translation != nil || !slices.Equal(same.Syscalls, p.Syscalls) || same.SeccompPath != p.SeccompPath {
		t.Errorf("ForArch(own arch) = %+v, %v; want the policy unchanged", same.Translation, err)
	}
	if _, err := p.ForArch("riscv64"); !errors.Is(err, ErrUnknownArch) || !strings.Contains(err.Error(), "amd64 or x86_64, arm64 or aarch64") {
		t.Errorf("ForArch(riscv64): err = %v, want ErrUnknownArch naming what is supported", err)
	}
	if !libseccompAvailable {
		if _, err := p.ForArch("arm64"); !errors.Is(err, ErrNoLibseccomp) {
			t.Errorf("ForArch without libseccomp: err = %v, want ErrNoLibseccomp", err)
		}
		return
	}
	arm, err := p.ForArch("arm64")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := arm.ForArch("amd64"); err == nil {
		t.Error("a translated policy was translated again")
	}
}

func TestSeccompProfileTranslated(t *testing.T) {
	if !libseccompAvailable {
		t.Skip("built without cgo/libseccomp: translation needs libseccomp")
	}
	for _, tc := range []struct {
		name string
		rec  func() Recording
		opts PolicyOptions
		to   string
	}{
		{"tun.arm64", tunRecording, PolicyOptions{NoNewPrivileges: boolPtr(true)}, "arm64"},
		{"fuse.amd64", fuseRecording, PolicyOptions{NoNewPrivileges: boolPtr(false), SeccompPath: "profiles/fuse-seccomp.json"}, "amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPolicy(tc.rec(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.SeccompProfile(tc.to)
			if err != nil {
				t.Fatal(err)
			}
			translated, err := p.ForArch(tc.to)
			if err != nil {
				t.Fatal(err)
			}
			again, err := translated.SeccompProfile("")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, again) {
				t.Error("SeccompProfile(arch) differs from ForArch(arch).SeccompProfile(\"\")")
			}
			if !bytes.Contains(got, []byte("translated to "+tc.to+"'s names, not verified by a replay")) {
				t.Error("the translated profile does not say it is unverified")
			}
			if err := ValidateSeccomp(got); err != nil {
				t.Fatalf("translated profile does not compile: %v", err)
			}
			assertGolden(t, tc.name+".seccomp.json", got)
		})
	}
}

func TestArchProfileSummary(t *testing.T) {
	if !libseccompAvailable {
		t.Skip("built without cgo/libseccomp: translation needs libseccomp")
	}
	p, err := NewPolicy(amd64Recording(), PolicyOptions{NoNewPrivileges: boolPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if p.ArchProfile() != nil {
		t.Error("the recording's own policy has an ArchProfile")
	}
	arm, err := p.ForArch("arm64")
	if err != nil {
		t.Fatal(err)
	}
	ap := arm.ArchProfile()
	if ap == nil || ap.To != "arm64" || ap.From != "amd64" || ap.Verified || ap.SyscallsAllowed != len(arm.Syscalls) ||
		ap.SeccompPath != arm.SeccompPath || !slices.Equal(ap.NoSys, arm.NoSys) || !slices.Equal(ap.Dropped, []string{"arch_prctl", "iopl"}) {
		t.Errorf("ArchProfile = %+v", ap)
	}
}

func TestArchSeccompPath(t *testing.T) {
	for _, tt := range []struct{ in, arch, want string }{
		{"seccomp/web.json", "arm64", "seccomp/web.arm64.json"},
		{"capprof/seccomp/tun.json", "amd64", "capprof/seccomp/tun.amd64.json"},
		{"/abs/out.d/seccomp/web.json", "arm64", "/abs/out.d/seccomp/web.arm64.json"},
		{"profiles/noext", "arm64", "profiles/noext.arm64"},
	} {
		if got := ArchSeccompPath(tt.in, tt.arch); got != tt.want {
			t.Errorf("ArchSeccompPath(%q, %q) = %q, want %q", tt.in, tt.arch, got, tt.want)
		}
	}
}
