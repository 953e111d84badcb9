//go:build linux && cgo

package profiles

import (
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// ValidateSeccomp checks a Docker seccomp profile the way the runtime will
// use it: it decodes it strictly, requires every system call name to exist on
// every main architecture of the profile (runc would silently drop an
// unknown one, leaving the workload without it), and compiles it to BPF with
// libseccomp. Errors wrap ErrInvalidSeccomp.
func ValidateSeccomp(profileJSON []byte) error {
	prof, err := parseSeccomp(profileJSON)
	if err != nil {
		return err
	}
	mains, subs := profileArches(prof)
	var errs []error
	arches := make(map[string]libseccomp.ScmpArch)
	for _, m := range append(slices.Clone(mains), flatten(subs)...) {
		a, err := libseccomp.GetArchFromString(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("architecture %q: %v", m, err))
			continue
		}
		arches[m] = a
	}
	for i, rule := range prof.Syscalls {
		for _, m := range mains {
			a, ok := arches[m]
			if !ok || !ruleApplies(rule, m) {
				continue
			}
			for _, name := range ruleNames(rule) {
				// Negative numbers are libseccomp's pseudo-syscalls: names it
				// knows from other architectures that this one does not have.
				if n, err := libseccomp.GetSyscallFromNameByArch(name, a); err != nil || n < 0 {
					errs = append(errs, fmt.Errorf("syscalls[%d]: %q is not a system call on %s", i, name, m))
				}
			}
		}
	}
	if len(errs) == 0 {
		errs = append(errs, compileSeccomp(prof, mains, subs, arches))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidSeccomp, err)
	}
	return nil
}

func flatten(m map[string][]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v...)
	}
	slices.Sort(out)
	return out
}

// ruleApplies evaluates a rule's arch conditions for one main architecture;
// Docker's conditions use GOARCH-style names ("amd64").
func ruleApplies(rule *seccomp.Syscall, scmpArch string) bool {
	goArch := map[string]string{"x86_64": "amd64", "aarch64": "arm64"}[scmpArch]
	if goArch == "" {
		goArch = scmpArch
	}
	if rule.Includes != nil && len(rule.Includes.Arches) > 0 && !slices.Contains(rule.Includes.Arches, goArch) {
		return false
	}
	if rule.Excludes != nil && slices.Contains(rule.Excludes.Arches, goArch) {
		return false
	}
	return true
}

// compileSeccomp builds the filter with libseccomp and exports its BPF.
// libseccomp numbers rules by the native architecture and translates them
// for the others, so names are resolved natively here; a name the native
// architecture lacks was already checked on the profile's own.
func compileSeccomp(prof *seccomp.Seccomp, mains []string, subs map[string][]string, arches map[string]libseccomp.ScmpArch) (err error) {
	defAct, err := scmpAction(prof.DefaultAction, prof.DefaultErrnoRet)
	if err != nil {
		return fmt.Errorf("defaultAction: %w", err)
	}
	filter, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return fmt.Errorf("new filter: %w", err)
	}
	defer filter.Release()
	for _, a := range arches {
		if err := filter.AddArch(a); err != nil {
			return fmt.Errorf("add architecture %s: %w", a, err)
		}
	}
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return fmt.Errorf("native architecture: %w", err)
	}
	nativeInProfile := false
	for _, a := range arches {
		nativeInProfile = nativeInProfile || a == native
	}
	for i, rule := range prof.Syscalls {
		act, err := scmpAction(rule.Action, rule.ErrnoRet)
		if err != nil {
			return fmt.Errorf("syscalls[%d]: %w", i, err)
		}
		if act == defAct {
			// runc skips such rules too; libseccomp refuses them.
			continue
		}
		conds, err := scmpConditions(rule.Args)
		if err != nil {
			return fmt.Errorf("syscalls[%d]: %w", i, err)
		}
		for _, name := range ruleNames(rule) {
			n, err := libseccomp.GetSyscallFromName(name)
			if err != nil || n < 0 {
				if nativeInProfile && applies(rule, mains, native) {
					return fmt.Errorf("syscalls[%d]: %q is not a system call on %s", i, name, native)
				}
				continue
			}
			if len(conds) == 0 {
				err = filter.AddRule(n, act)
			} else {
				err = filter.AddRuleConditional(n, act, conds)
			}
			if err != nil {
				return fmt.Errorf("syscalls[%d]: add rule for %q: %w", i, name, err)
			}
		}
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer devNull.Close()
	if err := filter.ExportBPF(devNull); err != nil {
		return fmt.Errorf("compile to BPF: %w", err)
	}
	return nil
}

func applies(rule *seccomp.Syscall, mains []string, native libseccomp.ScmpArch) bool {
	for _, m := range mains {
		if a, err := libseccomp.GetArchFromString(m); err == nil && a == native {
			return ruleApplies(rule, m)
		}
	}
	return true
}

func scmpAction(a specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return libseccomp.ActKillThread, nil
	case specs.ActKillProcess:
		return libseccomp.ActKillProcess, nil
	case specs.ActTrap:
		return libseccomp.ActTrap, nil
	case specs.ActAllow:
		return libseccomp.ActAllow, nil
	case specs.ActLog:
		return libseccomp.ActLog, nil
	case specs.ActNotify:
		return libseccomp.ActNotify, nil
	case specs.ActErrno, specs.ActTrace:
		act := libseccomp.ActErrno
		if a == specs.ActTrace {
			act = libseccomp.ActTrace
		}
		code := errnoEPERM // what runc uses when errnoRet is absent
		if errnoRet != nil {
			code = *errnoRet
		}
		if code > 4095 {
			return libseccomp.ActInvalid, fmt.Errorf("errnoRet %d out of range", code)
		}
		return act.SetReturnCode(int16(code)), nil
	}
	return libseccomp.ActInvalid, fmt.Errorf("unknown action %q", a)
}

var scmpOps = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

func scmpConditions(args []specs.LinuxSeccompArg) ([]libseccomp.ScmpCondition, error) {
	var conds []libseccomp.ScmpCondition
	for _, a := range args {
		op, ok := scmpOps[a.Op]
		if !ok {
			return nil, fmt.Errorf("unknown argument operator %q", a.Op)
		}
		values := []uint64{a.Value}
		if a.Op == specs.OpMaskedEqual {
			values = append(values, a.ValueTwo)
		}
		c, err := libseccomp.MakeCondition(a.Index, op, values...)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c)
	}
	return conds, nil
}
