package profiles

import (
	"errors"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestNewPolicyCapabilities(t *testing.T) {
	tests := []struct {
		name    string
		rec     Recording
		opts    PolicyOptions
		want    []string
		wantSub []Substitution
	}{
		{
			name: "granted checks are needs, denied-only checks are not",
			rec:  tunRecording(),
			want: []string{"NET_ADMIN"},
		},
		{
			name: "noise never reaches cap_add",
			rec: Recording{Service: "noisy", Arch: "amd64", Noise: []NoiseUse{
				{Capability: "CAP_SYS_ADMIN", Class: NoiseVMAccounting, Count: 100},
				{Capability: "CAP_SYS_ADMIN", Class: NoiseNoAudit, Count: 3},
				{Capability: "CAP_DAC_OVERRIDE", Class: NoiseForeignCred, Count: 7},
				{Capability: "CAP_SETPCAP", Class: NoiseRuntimeSetup, Count: 40},
			}},
			want: nil,
		},
		{
			name: "engine-rejected capabilities become SYS_ADMIN once",
			rec:  bpftoolRecording(),
			opts: PolicyOptions{EngineRejects: []string{"CAP_PERFMON", "bpf", "checkpoint_restore"}},
			want: []string{"SYS_ADMIN", "SYS_RESOURCE"},
			wantSub: []Substitution{
				{Wanted: "BPF", Granted: "SYS_ADMIN"},
				{Wanted: "PERFMON", Granted: "SYS_ADMIN"},
			},
		},
		{
			name: "an engine that accepts them grants them by name",
			rec:  bpftoolRecording(),
			want: []string{"BPF", "PERFMON", "SYS_RESOURCE"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPolicy(tt.rec, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range p.CapAdd {
				got = append(got, g.Capability)
				if g.Evidence == "" {
					t.Errorf("%s has no evidence", g.Capability)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("CapAdd = %v, want %v", got, tt.want)
			}
			if len(p.Substitutions) != len(tt.wantSub) {
				t.Fatalf("Substitutions = %+v, want %+v", p.Substitutions, tt.wantSub)
			}
			for i, s := range p.Substitutions {
				if s.Wanted != tt.wantSub[i].Wanted || s.Granted != tt.wantSub[i].Granted || s.Why == "" {
					t.Errorf("Substitutions[%d] = %+v, want %+v with a reason", i, s, tt.wantSub[i])
				}
			}
		})
	}
}

func TestNewPolicyEvidence(t *testing.T) {
	p, err := NewPolicy(tunRecording(), PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.CapAdd[0].Evidence, "ip (12 checks): dev_ioctl, tun_set_iff"; got != want {
		t.Errorf("evidence = %q, want %q", got, want)
	}
	want := []DeviceGrant{{HostPath: "/dev/net/tun", ContainerPath: "/dev/net/tun", Access: "rw", Evidence: "ip (1 open)"}}
	if !reflect.DeepEqual(p.Devices, want) {
		t.Errorf("Devices = %+v, want %+v", p.Devices, want)
	}
}

// A device's evidence says what its programs did with it: a node made with
// mknod is not an open.
func TestDeviceEvidence(t *testing.T) {
	use := func(access string, prog string, n uint64) DeviceUse {
		return DeviceUse{Type: "c", Major: 10, Minor: 200, Path: "/dev/net/tun", Access: access, Programs: []ProgramCount{{Program: prog, Count: n}}}
	}
	tests := []struct {
		name string
		uses []DeviceUse
		want string
	}{
		{"opened", []DeviceUse{use("rw", "ip", 1)}, "ip (1 open)"},
		{"created", []DeviceUse{use("m", "mknod", 1)}, "mknod (1 mknod)"},
		{"created twice", []DeviceUse{use("m", "mknod", 2)}, "mknod (2 mknods)"},
		{"created and opened", []DeviceUse{use("rwm", "sh", 2)}, "sh (2 opens or mknods)"},
		{"used, how unknown", []DeviceUse{use("", "ip", 1)}, "ip (1 use)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tunRecording()
			rec.Devices = tt.uses
			p, err := NewPolicy(rec, PolicyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Devices) != 1 || p.Devices[0].Evidence != tt.want {
				t.Errorf("Devices = %+v, want evidence %q", p.Devices, tt.want)
			}
		})
	}
}

func TestNewPolicyErrors(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Recording)
		opts    PolicyOptions
		wantErr error
		wantMsg string
	}{
		{
			name: "device without host path",
			mutate: func(r *Recording) {
				r.Devices = append(r.Devices, DeviceUse{Type: "c", Major: 10, Minor: 229, Access: "rw"})
			},
			wantErr: ErrDeviceNoHostPath, wantMsg: "devices[1] (c 10:229)",
		},
		{
			name:    "device access outside rwm",
			mutate:  func(r *Recording) { r.Devices[0].Access = "rx" },
			wantErr: ErrDeviceAccess, wantMsg: "/dev/net/tun",
		},
		{
			name:    "unknown capability name",
			mutate:  func(r *Recording) { r.Capabilities[0].Capability = "CAP_TELEPORT" },
			wantErr: ErrUnknownCapability, wantMsg: "capabilities[0]",
		},
		{
			name:    "capability this build cannot name",
			mutate:  func(r *Recording) { r.Capabilities[0].Capability = "CAP_45" },
			wantErr: ErrUnknownCapability, wantMsg: "CAP_45",
		},
		{
			name:    "engine rejects a capability SYS_ADMIN does not cover",
			opts:    PolicyOptions{EngineRejects: []string{"NET_ADMIN"}},
			wantErr: ErrNoSubstitute, wantMsg: "CAP_NET_ADMIN",
		},
		{
			name:    "syscall name that cannot be one",
			mutate:  func(r *Recording) { r.Syscalls[0].Name = "read; rm -rf" },
			wantErr: ErrInvalidSyscall,
		},
		{
			name:    "unknown architecture",
			mutate:  func(r *Recording) { r.Arch = "ppc64le" },
			wantErr: ErrUnknownArch,
		},
		{
			name:    "no architecture",
			mutate:  func(r *Recording) { r.Arch = "" },
			wantErr: ErrUnknownArch,
		},
		{
			name:    "no service",
			mutate:  func(r *Recording) { r.Service = "" },
			wantErr: ErrNoService,
		},
		{
			name:    "seccomp path is the project directory",
			opts:    PolicyOptions{SeccompPath: "sub/.."},
			wantErr: ErrSeccompPath,
		},
		{
			name:    "absolute seccomp path",
			opts:    PolicyOptions{SeccompPath: "/etc/seccomp.json"},
			wantErr: ErrSeccompPath,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tunRecording()
			if tt.mutate != nil {
				tt.mutate(&rec)
			}
			_, err := NewPolicy(rec, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewPolicy() error = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not name %q", err, tt.wantMsg)
			}
		})
	}
}

func TestNewPolicySyscalls(t *testing.T) {
	t.Run("clone3 observed is allowed, not ENOSYS", func(t *testing.T) {
		p, err := NewPolicy(tunRecording(), PolicyOptions{NoNewPrivileges: boolPtr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(p.Syscalls, "clone3") || slices.Contains(p.NoSys, "clone3") {
			t.Errorf("clone3: Syscalls has it %v, NoSys %v", slices.Contains(p.Syscalls, "clone3"), p.NoSys)
		}
	})
	t.Run("clone3 not observed answers ENOSYS", func(t *testing.T) {
		p, err := NewPolicy(fuseRecording(), PolicyOptions{NoNewPrivileges: boolPtr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(p.Syscalls, "clone3") || !slices.Contains(p.NoSys, "clone3") {
			t.Errorf("clone3: Syscalls %v, NoSys %v", p.Syscalls, p.NoSys)
		}
	})
	t.Run("runtime syscalls follow no-new-privileges and arch", func(t *testing.T) {
		for _, nnp := range []bool{true, false} {
			for _, rec := range []Recording{tunRecording(), fuseRecording()} {
				p, err := NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(nnp)})
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range RuntimeSyscalls(nnp) {
					if !slices.Contains(p.Syscalls, s) {
						t.Errorf("%s nnp=%v: runtime syscall %s missing", rec.Arch, nnp, s)
					}
				}
				if got := slices.Contains(p.Syscalls, "arch_prctl"); got != (rec.Arch == "amd64") {
					t.Errorf("%s: arch_prctl allowed = %v", rec.Arch, got)
				}
				for _, s := range p.NoSys {
					if slices.Contains(p.Syscalls, s) {
						t.Errorf("%s is both allowed and ENOSYS", s)
					}
				}
				if !slices.IsSorted(p.Syscalls) || len(slices.Compact(slices.Clone(p.Syscalls))) != len(p.Syscalls) {
					t.Errorf("Syscalls not sorted and unique: %v", p.Syscalls)
				}
			}
		}
	})
	t.Run("close_range is allowed when runc needs it", func(t *testing.T) {
		p, err := NewPolicy(emptyRecording(), PolicyOptions{NoNewPrivileges: boolPtr(false)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(p.Syscalls, "close_range") || slices.Contains(p.NoSys, "close_range") {
			t.Errorf("close_range: Syscalls %v NoSys %v", p.Syscalls, p.NoSys)
		}
	})
}

func TestNewPolicyWarnings(t *testing.T) {
	rec := fuseRecording()
	rec.Syscalls = append(rec.Syscalls, SyscallUse{Name: "io_uring_setup", Count: 1})
	rec.Capabilities = append(rec.Capabilities, CapabilityUse{Capability: "CAP_SYS_MODULE", Granted: 1})
	p, err := NewPolicy(rec, PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(p.Warnings, "\n")
	for _, want := range []string{"io_uring", "AppArmor", "SYS_MODULE"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
}

// The same recording in any order gives the same policy.
func TestNewPolicyOrderIndependent(t *testing.T) {
	rec := tunRecording()
	rec.Capabilities = append(rec.Capabilities, CapabilityUse{Capability: "CAP_CHOWN", Granted: 1, Programs: []ProgramCount{{Program: "b", Count: 1}, {Program: "a", Count: 2}}})
	rec.Devices = append(rec.Devices,
		DeviceUse{Type: "c", Major: 1, Minor: 3, Path: "/dev/null", Access: "w", Programs: []ProgramCount{{Program: "sh", Count: 1}}},
		DeviceUse{Type: "c", Major: 1, Minor: 3, Path: "/dev/null", Access: "r", Programs: []ProgramCount{{Program: "ip", Count: 2}}})
	want, err := NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got := want.Devices[1]; got.HostPath != "/dev/null" || got.Access != "rw" || got.Evidence != "ip (2 opens), sh (1 open)" {
		t.Errorf("merged device = %+v", got)
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		shuffled := tunRecording()
		shuffled.Capabilities = slices.Clone(rec.Capabilities)
		shuffled.Devices = slices.Clone(rec.Devices)
		r.Shuffle(len(shuffled.Capabilities), func(i, j int) {
			shuffled.Capabilities[i], shuffled.Capabilities[j] = shuffled.Capabilities[j], shuffled.Capabilities[i]
		})
		r.Shuffle(len(shuffled.Devices), func(i, j int) { shuffled.Devices[i], shuffled.Devices[j] = shuffled.Devices[j], shuffled.Devices[i] })
		r.Shuffle(len(shuffled.Syscalls), func(i, j int) {
			shuffled.Syscalls[i], shuffled.Syscalls[j] = shuffled.Syscalls[j], shuffled.Syscalls[i]
		})
		got, err := NewPolicy(shuffled, PolicyOptions{NoNewPrivileges: boolPtr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d: policy differs:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

func TestPolicyRestrict(t *testing.T) {
	p, err := NewPolicy(tunRecording(), PolicyOptions{NoNewPrivileges: boolPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.CapAdd) == 0 || len(p.Devices) == 0 {
		t.Fatalf("fixture has no grants to restrict: %+v", p)
	}
	none := p.Restrict(nil)
	if len(none.CapAdd) != 0 || len(none.Devices) != 0 {
		t.Errorf("Restrict(nil) kept %v %v", none.CapAdd, none.Devices)
	}
	if !slices.Equal(none.Syscalls, p.Syscalls) || none.SeccompPath != p.SeccompPath {
		t.Error("Restrict changed the seccomp side of the policy")
	}
	onlyDev := p.Restrict([]string{p.Devices[0].HostPath})
	if len(onlyDev.CapAdd) != 0 || len(onlyDev.Devices) != 1 {
		t.Errorf("Restrict(device) = %v %v", onlyDev.CapAdd, onlyDev.Devices)
	}
	all := p.Restrict([]string{p.CapAdd[0].Capability, p.Devices[0].HostPath})
	if !slices.Equal(all.CapAdd, p.CapAdd) || !slices.Equal(all.Devices, p.Devices) {
		t.Errorf("Restrict(everything) lost grants")
	}
	if len(p.CapAdd) > 0 && &p.CapAdd[0] == &all.CapAdd[0] {
		t.Error("Restrict shares the grant slice with the original")
	}
}
