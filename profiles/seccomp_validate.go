package profiles

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// parseSeccomp decodes a Docker seccomp profile strictly and checks what
// does not need libseccomp: a known default action, at least one
// architecture, and rules that name system calls and a known action.
func parseSeccomp(profileJSON []byte) (*seccomp.Seccomp, error) {
	var prof seccomp.Seccomp
	dec := json.NewDecoder(bytes.NewReader(profileJSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&prof); err != nil {
		return nil, fmt.Errorf("%w: decode: %v", ErrInvalidSeccomp, err)
	}
	var errs []error
	if !knownAction(prof.DefaultAction) {
		errs = append(errs, fmt.Errorf("defaultAction: unknown action %q", prof.DefaultAction))
	}
	if len(prof.ArchMap) == 0 && len(prof.Architectures) == 0 {
		errs = append(errs, errors.New("archMap: no architecture; the profile would apply to the native one only"))
	}
	if len(prof.ArchMap) > 0 && len(prof.Architectures) > 0 {
		errs = append(errs, errors.New("both architectures and archMap are set; Docker refuses that"))
	}
	for i, rule := range prof.Syscalls {
		if rule == nil {
			errs = append(errs, fmt.Errorf("syscalls[%d]: null rule", i))
			continue
		}
		if rule.Name != "" && len(rule.Names) > 0 {
			errs = append(errs, fmt.Errorf("syscalls[%d]: both name and names are set", i))
		}
		if len(ruleNames(rule)) == 0 {
			errs = append(errs, fmt.Errorf("syscalls[%d]: no system call names", i))
		}
		if !knownAction(rule.Action) {
			errs = append(errs, fmt.Errorf("syscalls[%d]: unknown action %q", i, rule.Action))
		}
		for _, name := range ruleNames(rule) {
			if !syscallName.MatchString(name) {
				errs = append(errs, fmt.Errorf("syscalls[%d]: %w: %q", i, ErrInvalidSyscall, name))
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSeccomp, errors.Join(errs...))
	}
	return &prof, nil
}

func ruleNames(rule *seccomp.Syscall) []string {
	if rule.Name != "" {
		return []string{rule.Name}
	}
	return rule.Names
}

func knownAction(a specs.LinuxSeccompAction) bool {
	switch a {
	case specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
		specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify:
		return true
	}
	return false
}

// profileArches returns the main architectures of a profile with their
// sub-architectures, as libseccomp names them ("x86_64", "x86").
func profileArches(prof *seccomp.Seccomp) (mains []string, subs map[string][]string) {
	subs = make(map[string][]string)
	name := func(a specs.Arch) string { return strings.ToLower(strings.TrimPrefix(string(a), "SCMP_ARCH_")) }
	for _, am := range prof.ArchMap {
		m := name(am.Arch)
		mains = append(mains, m)
		for _, s := range am.SubArches {
			subs[m] = append(subs[m], name(s))
		}
	}
	for _, a := range prof.Architectures {
		mains = append(mains, name(a))
	}
	return mains, subs
}
