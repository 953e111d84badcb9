package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSeccompProfileGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPolicy(tc.rec(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.SeccompProfile("")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(got, []byte("}\n")) || !bytes.HasPrefix(got, []byte("{\n  \"")) {
				t.Errorf("not 2-space indented with a trailing newline:\n%.40s", got)
			}
			assertGolden(t, tc.name+".seccomp.json", got)
		})
	}
}

// The profile decodes into moby's own type (what the Docker CLI and engine
// use) and says what the policy says.
func TestSeccompProfileMobyTypes(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPolicy(tc.rec(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.SeccompProfile(p.Arch)
			if err != nil {
				t.Fatal(err)
			}
			var prof seccomp.Seccomp
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&prof); err != nil {
				t.Fatal(err)
			}
			if prof.DefaultAction != specs.ActErrno || prof.DefaultErrnoRet == nil || *prof.DefaultErrnoRet != 1 {
				t.Errorf("default = %s/%v, want SCMP_ACT_ERRNO with EPERM", prof.DefaultAction, prof.DefaultErrnoRet)
			}
			wantArch := archMaps[p.Arch]
			if len(prof.ArchMap) != 1 || prof.ArchMap[0].Arch != wantArch.Arch || !slices.Equal(prof.ArchMap[0].SubArches, wantArch.SubArches) {
				t.Errorf("archMap = %+v, want [%+v]", prof.ArchMap, wantArch)
			}
			if len(prof.Syscalls) == 0 || prof.Syscalls[0].Action != specs.ActAllow || !slices.Equal(prof.Syscalls[0].Names, p.Syscalls) {
				t.Fatalf("first rule must allow exactly the policy's syscalls: %+v", prof.Syscalls[0])
			}
			if len(p.NoSys) > 0 {
				r := prof.Syscalls[1]
				if r.Action != specs.ActErrno || r.ErrnoRet == nil || *r.ErrnoRet != 38 || !slices.Equal(r.Names, p.NoSys) {
					t.Errorf("ENOSYS rule = %+v errno %v, want %v with 38", r, r.ErrnoRet, p.NoSys)
				}
			}
			// On a host of the profile's arch, the engine's loader expands
			// archMap into the architectures runc gets.
			if goArch := runtime.GOARCH; goArch == p.Arch {
				spec := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{}}}
				loaded, err := seccomp.LoadProfile(string(out), spec)
				if err != nil {
					t.Fatal(err)
				}
				want := append([]specs.Arch{wantArch.Arch}, wantArch.SubArches...)
				if !slices.Equal(loaded.Architectures, want) {
					t.Errorf("engine architectures = %v, want %v", loaded.Architectures, want)
				}
			}
		})
	}
}

func TestSeccompProfileArch(t *testing.T) {
	p, err := NewPolicy(tunRecording(), PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SeccompProfile("x86_64"); err != nil {
		t.Errorf("x86_64 is amd64: %v", err)
	}
	if _, err := p.SeccompProfile("ppc64le"); !errors.Is(err, ErrUnknownArch) {
		t.Errorf("rendered for ppc64le: err = %v", err)
	}
	// Another architecture is a translation (seccomp_arch_test.go), which
	// needs libseccomp.
	if _, err := p.SeccompProfile("arm64"); libseccompAvailable != (err == nil) {
		t.Errorf("an amd64 recording rendered for arm64: err = %v (libseccomp: %v)", err, libseccompAvailable)
	}
	if _, err := (Policy{Service: "x", Arch: "amd64"}).SeccompProfile(""); !errors.Is(err, ErrInvalidSeccomp) {
		t.Errorf("a policy without syscalls rendered: err = %v", err)
	}
}

func TestValidateSeccomp(t *testing.T) {
	if !libseccompAvailable {
		t.Skip("built without cgo/libseccomp: ValidateSeccomp only checks structure")
	}
	for _, tc := range goldenCases {
		t.Run("golden/"+tc.name, func(t *testing.T) {
			p, err := NewPolicy(tc.rec(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.SeccompProfile("")
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateSeccomp(out); err != nil {
				t.Fatal(err)
			}
		})
	}

	base := func(arch string, names ...string) Policy {
		return Policy{Service: "t", Arch: arch, Syscalls: names, NoSys: []string{"clone3"}}
	}
	render := func(t *testing.T, p Policy) []byte {
		t.Helper()
		out, err := p.SeccompProfile("")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name    string
		profile func(t *testing.T) []byte
		wantMsg string // empty: valid
	}{
		{"valid amd64", func(t *testing.T) []byte { return render(t, base("amd64", "read", "write", "arch_prctl")) }, ""},
		{"valid arm64", func(t *testing.T) []byte { return render(t, base("arm64", "read", "openat", "clone")) }, ""},
		{"unknown name", func(t *testing.T) []byte { return render(t, base("amd64", "read", "not_a_syscall")) }, `"not_a_syscall" is not a system call on x86_64`},
		{"open does not exist on arm64", func(t *testing.T) []byte { return render(t, base("arm64", "open", "read")) }, `"open" is not a system call on aarch64`},
		{"arch_prctl does not exist on arm64", func(t *testing.T) []byte { return render(t, base("arm64", "arch_prctl")) }, `"arch_prctl" is not a system call on aarch64`},
		{"unknown action", func(t *testing.T) []byte {
			return []byte(`{"defaultAction":"SCMP_ACT_ERRNO","archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":null}],"syscalls":[{"names":["read"],"action":"SCMP_ACT_MAYBE"}]}`)
		}, "unknown action"},
		{"unknown field", func(t *testing.T) []byte {
			return []byte(`{"defaultAction":"SCMP_ACT_ERRNO","archMap":[],"syscalls":[],"syscall":[]}`)
		}, "unknown field"},
		{"no architecture", func(t *testing.T) []byte {
			return []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`)
		}, "no architecture"},
		{"rule without names", func(t *testing.T) []byte {
			return []byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":[],"action":"SCMP_ACT_ALLOW"}]}`)
		}, "no system call names"},
		{"argument conditions compile", func(t *testing.T) []byte {
			return []byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"}]}]}`)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSeccomp(tt.profile(t))
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("ValidateSeccomp() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidSeccomp) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("ValidateSeccomp() = %v, want ErrInvalidSeccomp mentioning %q", err, tt.wantMsg)
			}
		})
	}
}
