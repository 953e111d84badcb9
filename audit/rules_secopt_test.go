package audit

import (
	"slices"
	"strings"
	"testing"
)

var securityOptRuleIDs = []string{"seccomp-unconfined", "apparmor-unconfined", "label-disabled", "systempaths-unconfined", "no-new-privileges-missing"}

// secoptService is a compose file whose one service has these
// security_opt items, each on its own line from line 5.
func secoptService(items ...string) map[string]string {
	var b strings.Builder
	b.WriteString("services:\n  web:\n    image: nginx\n    security_opt:\n")
	for _, it := range items {
		b.WriteString("      - " + it + "\n")
	}
	return map[string]string{"compose.yml": b.String()}
}

// messageHas checks the message of the rule's finding.
func messageHas(id, part string) func(*testing.T, []Finding) {
	return func(t *testing.T, found []Finding) {
		if f := findingOf(t, found, id); !strings.Contains(f.Message, part) {
			t.Errorf("%s message %q, want it to say %q", id, f.Message, part)
		}
	}
}

func TestSecurityOptRules(t *testing.T) {
	runRuleCases(t, securityOptRuleIDs, []ruleCase{
		{
			name:  "seccomp=unconfined",
			files: secoptService("seccomp=unconfined", "no-new-privileges:true"),
			want:  []string{"seccomp-unconfined@compose.yml:5"},
			check: func(t *testing.T, found []Finding) {
				if f := found[0]; f.Severity != High || f.Path != "services.web.security_opt[0]" || f.Message != "security_opt: seccomp=unconfined" {
					t.Errorf("seccomp-unconfined = %s %s %q", f.Severity, f.Path, f.Message)
				}
			},
		},
		{
			name:  "seccomp with a colon, spaces and upper case",
			files: secoptService("no-new-privileges", `"SecComp : Unconfined"`),
			want:  []string{"seccomp-unconfined@compose.yml:6"},
		},
		{
			name: "seccomp profile file",
			files: func() map[string]string {
				files := secoptService("seccomp=./seccomp.json", "no-new-privileges:true")
				files["seccomp.json"] = `{"defaultAction": "SCMP_ACT_ERRNO"}`
				return files
			}(),
			want: nil,
		},
		{
			name:  "apparmor:unconfined",
			files: secoptService("no-new-privileges=true", "apparmor:unconfined"),
			want:  []string{"apparmor-unconfined@compose.yml:6"},
		},
		{
			name:  "apparmor profile",
			files: secoptService("apparmor=docker-default", "no-new-privileges=true"),
			want:  nil,
		},
		{
			name:  "label=disable",
			files: secoptService("label=disable", "no-new-privileges=true"),
			want:  []string{"label-disabled@compose.yml:5"},
			check: messageHas("label-disabled", "SELinux labelling off"),
		},
		{
			name:  "label:disable",
			files: secoptService("no-new-privileges=true", "label:disable"),
			want:  []string{"label-disabled@compose.yml:6"},
		},
		{
			name:  "label:type:spc_t is the super-privileged type",
			files: secoptService("no-new-privileges=true", "label:type:spc_t"),
			want:  []string{"label-disabled@compose.yml:6"},
			check: messageHas("label-disabled", "super-privileged"),
		},
		{
			name:  "confined label type and level",
			files: secoptService("no-new-privileges=true", "label=type:container_t", `"label=level:s0:c100,c200"`),
			want:  nil,
		},
		{
			name:  "systempaths=unconfined",
			files: secoptService("no-new-privileges=true", "systempaths=unconfined"),
			want:  []string{"systempaths-unconfined@compose.yml:6"},
		},
		{
			name:  "systempaths:unconfined",
			files: secoptService("systempaths:unconfined", "no-new-privileges=true"),
			want:  []string{"systempaths-unconfined@compose.yml:5"},
		},
		{
			name: "no security_opt is located at the service",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
`},
			want: []string{"no-new-privileges-missing@compose.yml:2"},
			check: func(t *testing.T, found []Finding) {
				if f := found[0]; f.Severity != Medium || f.Path != "services.web.security_opt" {
					t.Errorf("no-new-privileges-missing = %s %s, want medium services.web.security_opt", f.Severity, f.Path)
				}
			},
		},
		{
			name:  "security_opt without no-new-privileges is located at the key",
			files: secoptService("apparmor=docker-default"),
			want:  []string{"no-new-privileges-missing@compose.yml:4"},
		},
		{
			name:  "no-new-privileges:false is located at the item, explicitly off",
			files: secoptService("apparmor=docker-default", "no-new-privileges:false"),
			want:  []string{"no-new-privileges-missing@compose.yml:6"},
			check: messageHas("no-new-privileges-missing", "off explicitly"),
		},
		{
			name:  "no-new-privileges=FALSE",
			files: secoptService("no-new-privileges=FALSE"),
			want:  []string{"no-new-privileges-missing@compose.yml:5"},
		},
		{
			name:  "no-new-privileges in every spelling that turns it on",
			files: secoptService("no-new-privileges", "no-new-privileges:TRUE", "no-new-privileges = 1"),
			want:  nil,
		},
		{
			name: "set in compose.override.yml found by discovery",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    security_opt: [no-new-privileges:true]
`,
				"compose.override.yml": `
services:
  web:
    security_opt:
      - apparmor=unconfined
`},
			want: []string{"apparmor-unconfined@compose.override.yml:4"},
		},
		{
			name: "the override's later item wins: no-new-privileges turned off there",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    security_opt: [no-new-privileges:true]
`,
				"compose.override.yml": `
services:
  web:
    security_opt:
      - no-new-privileges:false
`},
			want: []string{"no-new-privileges-missing@compose.override.yml:4"},
		},
		{
			name: "the override's later seccomp profile replaces unconfined",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    security_opt: [seccomp=unconfined, no-new-privileges:true]
`,
				"compose.override.yml": `
services:
  web:
    security_opt: [seccomp=./seccomp.json]
`,
				"seccomp.json": `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`,
			},
			want: nil,
		},
		{
			name: "profile files that filter nothing: allow by default, log by default with allowing rules",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    security_opt: ["seccomp=./allow.json", no-new-privileges]
  log:
    image: nginx
    security_opt: ["seccomp:profiles/log.json", no-new-privileges]
`,
				"allow.json":        `{"defaultAction": "SCMP_ACT_ALLOW"}`,
				"profiles/log.json": `{"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`,
			},
			want:  []string{"seccomp-unconfined@compose.yml:4", "seccomp-unconfined@compose.yml:7"},
			check: messageHas("seccomp-unconfined", "defaultAction is SCMP_ACT_ALLOW and no rule denies a syscall"),
		},
		{
			name: "profile files that filter: deny by default, allow by default with a denying rule",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    security_opt: ["seccomp=./deny.json", no-new-privileges]
  log:
    image: nginx
    security_opt: ["seccomp=./allow-but.json", no-new-privileges]
`,
				"deny.json":      `{"defaultAction": "SCMP_ACT_ERRNO"}`,
				"allow-but.json": `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["bpf"], "action": "SCMP_ACT_ERRNO"}]}`,
			},
			want: nil,
		},
		{
			name:  "a profile file that cannot be read: a low note, not a load error",
			files: secoptService("seccomp=./missing.json", "no-new-privileges"),
			want:  []string{"seccomp-unconfined@compose.yml:5"},
			check: func(t *testing.T, found []Finding) {
				if f := findingOf(t, found, "seccomp-unconfined"); f.Severity != Low || !strings.Contains(f.Message, "cannot read the profile") {
					t.Errorf("finding %s %q, want a low one saying the profile cannot be read", f.Severity, f.Message)
				}
			},
		},
		{
			name: "!override in the override removes the base's items",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    security_opt: [seccomp=unconfined, label=disable, systempaths=unconfined]
`,
				"compose.override.yml": `
services:
  web:
    security_opt: !override [no-new-privileges:true]
`},
			want: nil,
		},
		{
			name: "!reset in the override removes them, and the missing no-new-privileges is located there",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    security_opt: [apparmor=unconfined, no-new-privileges:true]
`,
				"compose.override.yml": `
services:
  web:
    security_opt: !reset []
`},
			want: []string{"no-new-privileges-missing@compose.override.yml:3"},
		},
		{
			name: "set through extends is located in the base file",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    extends:
      file: common/base.yml
      service: base
    image: nginx
`,
				"common/base.yml": `
services:
  base:
    image: busybox
    security_opt:
      - no-new-privileges:true
      - systempaths=unconfined
`},
			want: []string{"systempaths-unconfined@common/base.yml:6"},
		},
		{
			name: "merge key is located at the anchor's item",
			files: map[string]string{"compose.yml": `
x-sec: &sec
  security_opt:
    - seccomp:unconfined
    - no-new-privileges
services:
  web:
    <<: *sec
    image: nginx
`},
			want: []string{"seccomp-unconfined@compose.yml:3"},
		},
		{
			name:  "interpolated item that is set",
			env:   []string{"SECOPT=apparmor=unconfined"},
			files: secoptService(`"${SECOPT}"`, "no-new-privileges:true"),
			want:  []string{"apparmor-unconfined@compose.yml:5"},
		},
		{
			name:  "an unset item before a bare no-new-privileges: that rule is decided, the others are not",
			files: secoptService(`"${SECOPT}"`, "no-new-privileges"),
			want: []string{
				"seccomp-unconfined?@compose.yml:5", "apparmor-unconfined?@compose.yml:5", "label-disabled?@compose.yml:5",
				"systempaths-unconfined?@compose.yml:5",
			},
		},
		{
			name:  "an unset item before seccomp and apparmor items: the last of each wins, decided",
			files: secoptService(`"${SECOPT}"`, "seccomp=unconfined", "apparmor=docker-default", "no-new-privileges:false"),
			want: []string{
				"seccomp-unconfined@compose.yml:6", "no-new-privileges-missing@compose.yml:8",
				"label-disabled?@compose.yml:5", "systempaths-unconfined?@compose.yml:5",
			},
		},
		{
			name:  "an unset seccomp profile concerns seccomp only",
			files: secoptService(`"seccomp=${PROFILE}"`, "no-new-privileges"),
			want:  []string{"seccomp-unconfined?@compose.yml:5"},
		},
		{
			name:  "an unset seccomp profile after seccomp=unconfined may replace it: indeterminate",
			files: secoptService("seccomp=unconfined", `"seccomp=${PROFILE}"`, "no-new-privileges"),
			want:  []string{"seccomp-unconfined?@compose.yml:6"},
		},
		{
			name:  "two unset items: the later one does not decide the earlier",
			files: secoptService(`"${A}"`, `"no-new-privileges=${B}"`),
			want: []string{
				"seccomp-unconfined?@compose.yml:5", "apparmor-unconfined?@compose.yml:5", "label-disabled?@compose.yml:5",
				"systempaths-unconfined?@compose.yml:5", "no-new-privileges-missing?@compose.yml:5",
			},
		},
		{
			name:  "interpolated item that is not set is indeterminate for every rule",
			files: secoptService("no-new-privileges:true", `"${SECOPT}"`),
			want: []string{
				"seccomp-unconfined?@compose.yml:6", "apparmor-unconfined?@compose.yml:6", "label-disabled?@compose.yml:6",
				"systempaths-unconfined?@compose.yml:6", "no-new-privileges-missing?@compose.yml:6",
			},
			check: func(t *testing.T, found []Finding) {
				for _, f := range found {
					if !slices.Equal(f.Variables, []string{"SECOPT"}) {
						t.Errorf("%s: Variables = %v, want [SECOPT]", f.RuleID, f.Variables)
					}
				}
			},
		},
	})
}

func TestParseSecurityOpt(t *testing.T) {
	tests := []struct {
		in   string
		want securityOpt
	}{
		{"seccomp=unconfined", securityOpt{key: "seccomp", value: "unconfined", hasValue: true}},
		{"seccomp:unconfined", securityOpt{key: "seccomp", value: "unconfined", hasValue: true}},
		{" SECCOMP = unconfined ", securityOpt{key: "seccomp", value: "unconfined", hasValue: true}},
		{"label:type:spc_t", securityOpt{key: "label", value: "type:spc_t", hasValue: true}},
		{"label=type:spc_t", securityOpt{key: "label", value: "type:spc_t", hasValue: true}},
		// An "=" anywhere is the separator, as the daemon splits them.
		{"seccomp:/etc/p=1.json", securityOpt{key: "seccomp:/etc/p", value: "1.json", hasValue: true}},
		{"no-new-privileges", securityOpt{key: "no-new-privileges"}},
		{"no-new-privileges:false", securityOpt{key: "no-new-privileges", value: "false", hasValue: true}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseSecurityOpt(tt.in); got != tt.want {
				t.Errorf("parseSecurityOpt(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}
