package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Errno values written into profiles; they are Linux's on every architecture
// capprof supports.
const (
	errnoEPERM  uint = 1
	errnoENOSYS uint = 38
)

// archMaps are the archMap entries Docker's default profile uses, keyed by
// the libseccomp/GOARCH names recordings carry. The sub-architectures let
// 32-bit binaries run under the same names.
var archMaps = map[string]seccomp.Architecture{
	"amd64": {Arch: specs.ArchX86_64, SubArches: []specs.Arch{specs.ArchX86, specs.ArchX32}},
	"arm64": {Arch: specs.ArchAARCH64, SubArches: []specs.Arch{specs.ArchARM}},
}

// archAliases accepts the kernel's names (uname -m) for the same architectures.
var archAliases = map[string]string{
	"x86_64":  "amd64",
	"aarch64": "arm64",
}

// ParseArch returns an architecture as a key of archMaps: "amd64" or
// "arm64", the kernel's names ("x86_64", "aarch64") accepted.
func ParseArch(arch string) (string, error) {
	if a, ok := archAliases[arch]; ok {
		arch = a
	}
	if _, ok := archMaps[arch]; !ok {
		var known []string
		for _, k := range slices.Sorted(maps.Keys(archMaps)) {
			for alias, a := range archAliases {
				if a == k {
					k += " or " + alias
				}
			}
			known = append(known, k)
		}
		return "", fmt.Errorf("%w: %q (supported: %s)", ErrUnknownArch, arch, strings.Join(known, ", "))
	}
	return arch, nil
}

// SeccompProfile renders the policy as a Docker seccomp profile for arch
// (empty means the policy's own): everything not allowed fails with EPERM,
// and NoSys fails with ENOSYS so libc falls back. For another architecture
// than the policy's, the policy is translated first (ForArch). The JSON is
// indented by two spaces and ends with a newline.
func (p Policy) SeccompProfile(arch string) ([]byte, error) {
	if arch == "" {
		arch = p.Arch
	}
	arch, err := ParseArch(arch)
	if err != nil {
		return nil, err
	}
	if p.Arch != "" && arch != p.Arch {
		translated, err := p.ForArch(arch)
		if err != nil {
			return nil, err
		}
		return translated.SeccompProfile(arch)
	}
	if len(p.Syscalls) == 0 {
		return nil, fmt.Errorf("%w: no allowed system calls; build the policy with NewPolicy", ErrInvalidSeccomp)
	}
	am := archMaps[arch]
	defaultErrno := errnoEPERM
	prof := seccomp.Seccomp{
		LinuxSeccomp: specs.LinuxSeccomp{
			DefaultAction:   specs.ActErrno,
			DefaultErrnoRet: &defaultErrno,
		},
		ArchMap: []seccomp.Architecture{{Arch: am.Arch, SubArches: slices.Clone(am.SubArches)}},
	}
	allow := slices.Clone(p.Syscalls)
	sort.Strings(allow)
	prof.Syscalls = append(prof.Syscalls, &seccomp.Syscall{
		LinuxSyscall: specs.LinuxSyscall{Names: slices.Compact(allow), Action: specs.ActAllow},
		Comment:      allowComment(p),
	})
	if len(p.NoSys) > 0 {
		enosys := errnoENOSYS
		nosys := slices.Clone(p.NoSys)
		sort.Strings(nosys)
		prof.Syscalls = append(prof.Syscalls, &seccomp.Syscall{
			LinuxSyscall: specs.LinuxSyscall{Names: slices.Compact(nosys), Action: specs.ActErrno, ErrnoRet: &enosys},
			Comment:      "not seen; ENOSYS instead of EPERM, as from an older kernel, so that callers fall back (clone3 to clone, faccessat2 to faccessat, openat2 to openat)",
		})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(prof); err != nil {
		return nil, fmt.Errorf("encode seccomp profile: %w", err)
	}
	return buf.Bytes(), nil
}

// allowComment says where the allowed system calls come from, and for a
// translated profile that no replay checked it.
func allowComment(p Policy) string {
	c := fmt.Sprintf("made by service %s during the trace run, or by the container runtime after it installs the filter", p.Service)
	if t := p.Translation; t != nil {
		c += fmt.Sprintf("; recorded on %s and translated to %s's names, not verified by a replay", t.From, t.To)
	}
	return c
}
