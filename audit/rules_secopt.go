package audit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// securityOptRules: security_opt: seccomp, AppArmor, SELinux labels, systempaths, no-new-privileges.
//
// Every rule reads the items through parseSecurityOpt, and so do their Item
// matchers, so a finding is located at the item it was made from however
// the item is spelt. Keys and the values compared are matched in any case
// and spacing: Docker itself refuses "SECCOMP=unconfined", but a container
// that does not start is no risk, and one that does is reported.
var securityOptRules = []Rule{
	{
		ID:        "seccomp-unconfined",
		Severity:  High,
		Title:     "seccomp turned off",
		Why:       "without seccomp every syscall reaches the kernel (keyctl, bpf, userfaultfd, unshare …): the kernel bugs escapes are made of",
		Fix:       "remove it; if the service needs syscalls the default profile denies, give a profile allowing just those (capprof profile writes one)",
		Fields:    []string{"security_opt"},
		dependsOn: securityOptDependsOn("seccomp", true),
		Check:     seccompUnconfined,
	},
	{
		ID:        "apparmor-unconfined",
		Severity:  High,
		Title:     "AppArmor turned off",
		Why:       "the docker-default AppArmor profile is what denies mount, writes to /proc and /sys and cross-profile ptrace; unconfined lifts all of it",
		Fix:       "remove it, or load a profile allowing only what the service needs and name it: apparmor=PROFILE",
		Fields:    []string{"security_opt"},
		dependsOn: securityOptDependsOn("apparmor", true),
		Check:     lastSecurityOptIs("apparmor", "unconfined"),
	},
	{
		ID:        "label-disabled",
		Severity:  High,
		Title:     "SELinux separation turned off",
		Why:       "SELinux labels keep the container's processes off the host's and other containers' files even past a mount escape; without them only file permissions do",
		Fix:       "remove it; label bind mounts with :z or :Z instead of turning labels off",
		Fields:    []string{"security_opt"},
		dependsOn: securityOptDependsOn("label", false),
		Check:     labelDisabled,
	},
	{
		ID:        "systempaths-unconfined",
		Severity:  High,
		Title:     "/proc and /sys unmasked",
		Why:       "Docker masks /proc/kcore, /proc/sysrq-trigger, /proc/keys and more, and keeps /proc/sys read-only; unconfined exposes kernel memory, host reboot and kernel tunables",
		Fix:       "remove it; bind mount the one /proc or /sys path the service needs, read-only",
		Fields:    []string{"security_opt"},
		dependsOn: securityOptDependsOn("systempaths", false),
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			// docker compose unmasks on any such item, wherever it is.
			for i, s := range svc.SecurityOpt {
				if o := parseSecurityOpt(s); o.is("systempaths", "unconfined") {
					return []Hit{securityOptHit(i, s, func(o securityOpt) bool { return o.is("systempaths", "unconfined") }, "")}
				}
			}
			return nil
		},
	},
	{
		ID:             "no-new-privileges-missing",
		Severity:       Medium,
		Title:          "no-new-privileges not set",
		Why:            "without it a setuid-root binary or a file capability in the image raises a compromised process's privileges again",
		Fix:            "add security_opt: [no-new-privileges:true]",
		Fields:         []string{"security_opt"},
		dependsOn:      securityOptDependsOn("no-new-privileges", true),
		FiresOnAbsence: true,
		Check:          noNewPrivilegesMissing,
	},
}

// securityOptDependsOn tells whether an unset variable in a security_opt
// item can change a rule on the option key: not when the item sets another
// option, nor, where the last item setting the option wins (lastWins), when
// an item after it sets the option with no unset variable.
func securityOptDependsOn(key string, lastWins bool) func(*types.ServiceConfig, unsetKey, []unsetKey) bool {
	return func(svc *types.ServiceConfig, u unsetKey, all []unsetKey) bool {
		if k := parseSecurityOpt(u.raw).key; k != key && !strings.Contains(k, "$") {
			return false
		}
		if !lastWins {
			return true
		}
		// Where the item landed in the merged list: the last item with its
		// interpolated text.
		at := -1
		for i, s := range svc.SecurityOpt {
			if s == u.value {
				at = i
			}
		}
		if at < 0 {
			return true
		}
		for _, s := range svc.SecurityOpt[at+1:] {
			unresolved := slices.ContainsFunc(all, func(o unsetKey) bool { return o.value == s })
			if !unresolved && parseSecurityOpt(s).key == key {
				return false
			}
		}
		return true
	}
}

// securityOpt is one security_opt item.
type securityOpt struct {
	// key is lower case and trimmed: "seccomp", "label", "no-new-privileges".
	key string
	// value is trimmed, "" when there is no separator.
	value    string
	hasValue bool
}

// parseSecurityOpt splits a security_opt item the way the Docker daemon
// does: at the first "=" when the item holds one, else at the first ":"
// (the older spelling, still accepted), so that label:type:spc_t is the
// label type:spc_t and seccomp=/p:x.json is a profile path.
func parseSecurityOpt(s string) securityOpt {
	sep := ":"
	if strings.Contains(s, "=") {
		sep = "="
	}
	k, v, ok := strings.Cut(s, sep)
	return securityOpt{key: strings.ToLower(strings.TrimSpace(k)), value: strings.TrimSpace(v), hasValue: ok}
}

// is reports whether the item sets key to value, both in any case.
func (o securityOpt) is(key, value string) bool {
	return o.key == key && o.hasValue && strings.EqualFold(o.value, value)
}

// securityOptMatches matches the security_opt items that match accepts.
func securityOptMatches(match func(securityOpt) bool) func(Item) bool {
	return func(it Item) bool {
		v, ok := it.Scalar()
		return ok && match(parseSecurityOpt(v))
	}
}

// securityOptHit is a finding at the item i of the merged security_opt,
// raw, located by match; msg defaults to the item itself.
func securityOptHit(i int, raw string, match func(securityOpt) bool, msg string) Hit {
	if msg == "" {
		msg = "security_opt: " + strings.TrimSpace(raw)
	}
	return Hit{Key: "security_opt", Item: securityOptMatches(match), Index: i, Subject: parseSecurityOpt(raw).key, Message: msg}
}

// lastSecurityOptIs fires when the last item setting key sets it to value:
// the daemon reads the items in order and the last seccomp or apparmor
// profile named is the one the container gets, so a profile added by an
// override file after an unconfined one in the base wins.
func lastSecurityOptIs(key, value string) func(*types.ServiceConfig, *types.Project) []Hit {
	return func(svc *types.ServiceConfig, _ *types.Project) []Hit {
		for i := len(svc.SecurityOpt) - 1; i >= 0; i-- {
			o := parseSecurityOpt(svc.SecurityOpt[i])
			if o.key != key {
				continue
			}
			if !o.is(key, value) {
				return nil
			}
			return []Hit{securityOptHit(i, svc.SecurityOpt[i], func(o securityOpt) bool { return o.is(key, value) }, "")}
		}
		return nil
	}
}

// seccompUnconfined fires when the last seccomp item turns seccomp off:
// unconfined, or a profile file whose default action allows every syscall
// (SCMP_ACT_ALLOW, SCMP_ACT_LOG) and whose rules deny none, which filters
// nothing. A profile that cannot be read here is a Low finding: docker
// compose would refuse to start the service, and the audit cannot tell
// what the profile allows. A relative path is the project directory's, as
// docker compose reads it.
func seccompUnconfined(svc *types.ServiceConfig, project *types.Project) []Hit {
	for i := len(svc.SecurityOpt) - 1; i >= 0; i-- {
		raw := svc.SecurityOpt[i]
		o := parseSecurityOpt(raw)
		if o.key != "seccomp" {
			continue
		}
		if o.is("seccomp", "unconfined") {
			return []Hit{securityOptHit(i, raw, func(o securityOpt) bool { return o.is("seccomp", "unconfined") }, "")}
		}
		if o.value == "" || strings.EqualFold(o.value, "builtin") {
			// The engine's default profile, or an unset variable, which
			// the YAML walk reports.
			return nil
		}
		file := o.value
		if !filepath.IsAbs(file) && project != nil {
			file = filepath.Join(project.WorkingDir, file)
		}
		same := func(p securityOpt) bool { return p.key == "seccomp" && p.value == o.value }
		allows, err := seccompAllowsAll(file)
		switch {
		case err != nil:
			h := securityOptHit(i, raw, same, fmt.Sprintf("security_opt: %s: cannot read the profile (%v): cannot tell whether it confines anything", strings.TrimSpace(raw), err))
			h.Severity = Low
			return []Hit{h}
		case allows != "":
			return []Hit{securityOptHit(i, raw, same, fmt.Sprintf("security_opt: %s: the profile's defaultAction is %s and no rule denies a syscall: as good as unconfined", strings.TrimSpace(raw), allows))}
		}
		return nil
	}
	return nil
}

// seccompAllowsAll reads a seccomp profile and returns its default action
// when that lets every syscall through and no rule denies one; "" when the
// profile filters something.
func seccompAllowsAll(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	var profile seccomp.Seccomp
	if err := json.Unmarshal(data, &profile); err != nil {
		return "", fmt.Errorf("parse %s: %w", file, err)
	}
	lets := func(a specs.LinuxSeccompAction) bool { return a == specs.ActAllow || a == specs.ActLog }
	if !lets(profile.DefaultAction) {
		return "", nil
	}
	for _, rule := range profile.Syscalls {
		if rule != nil && !lets(rule.Action) {
			return "", nil
		}
	}
	return string(profile.DefaultAction), nil
}

// unconfinedLabelTypes are SELinux process types that are not confined:
// spc_t is the super-privileged container type, unconfined_t the
// unconfined user's.
var unconfinedLabelTypes = map[string]string{
	"spc_t":        "SELinux's super-privileged container type, which no policy confines",
	"unconfined_t": "SELinux's unconfined type, which no policy confines",
}

// labelDisabled fires on label=disable anywhere (SELinux's label code stops
// at it) and on a last label type that is unconfined. A bare "disable",
// which the daemon would take, is refused by docker compose and so never
// reaches it.
func labelDisabled(svc *types.ServiceConfig, _ *types.Project) []Hit {
	isDisable := func(o securityOpt) bool { return o.is("label", "disable") }
	for i, s := range svc.SecurityOpt {
		if isDisable(parseSecurityOpt(s)) {
			return []Hit{securityOptHit(i, s, isDisable, "security_opt: "+strings.TrimSpace(s)+" turns SELinux labelling off")}
		}
	}
	for i := len(svc.SecurityOpt) - 1; i >= 0; i-- {
		typ, ok := labelType(parseSecurityOpt(svc.SecurityOpt[i]))
		if !ok {
			continue
		}
		what, unconfined := unconfinedLabelTypes[typ]
		if !unconfined {
			return nil
		}
		isType := func(o securityOpt) bool { t, ok := labelType(o); return ok && t == typ }
		return []Hit{securityOptHit(i, svc.SecurityOpt[i], isType, fmt.Sprintf("security_opt: %s runs the container as %s, %s", strings.TrimSpace(svc.SecurityOpt[i]), typ, what))}
	}
	return nil
}

// labelType returns the SELinux type a label=type:TYPE item sets, in
// lower case.
func labelType(o securityOpt) (string, bool) {
	if o.key != "label" {
		return "", false
	}
	field, typ, ok := strings.Cut(o.value, ":")
	if !ok || !strings.EqualFold(strings.TrimSpace(field), "type") {
		return "", false
	}
	return strings.ToLower(strings.TrimSpace(typ)), true
}

// noNewPrivileges returns whether the item is a no-new-privileges one and
// whether it turns it on. A bare no-new-privileges means true; a value
// that is no boolean, which the daemon refuses, turns nothing on.
func noNewPrivileges(o securityOpt) (set, on bool) {
	if o.key != "no-new-privileges" {
		return false, false
	}
	if !o.hasValue {
		return true, true
	}
	on, err := strconv.ParseBool(strings.ToLower(o.value))
	return true, err == nil && on
}

// noNewPrivilegesMissing fires when no item sets no-new-privileges, at the
// security_opt key or the service, and when the last one that does turns
// it off, at that item: the daemon reads them in order, the last wins.
func noNewPrivilegesMissing(svc *types.ServiceConfig, _ *types.Project) []Hit {
	for i := len(svc.SecurityOpt) - 1; i >= 0; i-- {
		raw := svc.SecurityOpt[i]
		set, on := noNewPrivileges(parseSecurityOpt(raw))
		if !set {
			continue
		}
		if on {
			return nil
		}
		off := func(o securityOpt) bool { set, on := noNewPrivileges(o); return set && !on }
		msg := "security_opt: " + strings.TrimSpace(raw) + " turns no-new-privileges off explicitly"
		if _, err := strconv.ParseBool(strings.ToLower(parseSecurityOpt(raw).value)); err != nil {
			msg = "security_opt: " + strings.TrimSpace(raw) + " is no boolean: no-new-privileges is not on (and the daemon refuses the item)"
		}
		return []Hit{securityOptHit(i, raw, off, msg)}
	}
	msg := "no security_opt: no-new-privileges is not set"
	if len(svc.SecurityOpt) > 0 {
		msg = "security_opt does not set no-new-privileges"
	}
	return []Hit{{Key: "security_opt", Index: -1, Message: msg}}
}
