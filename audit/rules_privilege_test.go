package audit

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ruleCase is one project audited for a group of rules: want lists the
// group's findings as rule@file:line, an indeterminate one as
// rule?@file:line, in any order; check, when set, looks further at them.
type ruleCase struct {
	name  string
	files map[string]string
	load  []string // -f files; none: discovery
	env   []string
	want  []string
	check func(t *testing.T, found []Finding)
}

// runRuleCases audits each case and compares the findings of the rules
// named with the case's.
func runRuleCases(t *testing.T, ids []string, tests []ruleCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := auditProject(t, tt.files, tt.env, tt.load...)
			var found []Finding
			var got []string
			for _, f := range report.Findings {
				if !slices.Contains(ids, f.RuleID) {
					continue
				}
				found = append(found, f)
				got = append(got, findingAt(f))
			}
			want := slices.Clone(tt.want)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings = %v, want %v", got, want)
			}
			if tt.check != nil {
				tt.check(t, found)
			}
		})
	}
}

// findingAt writes a finding as rule@file:line, rule?@file:line when it is
// indeterminate.
func findingAt(f Finding) string {
	mark := ""
	if f.Indeterminate {
		mark = "?"
	}
	return f.RuleID + mark + "@" + f.Location.File + ":" + strconv.Itoa(f.Location.Line)
}

// findingOf returns the first finding of the rule, failing the test when
// there is none.
func findingOf(t *testing.T, found []Finding, id string) Finding {
	t.Helper()
	for _, f := range found {
		if f.RuleID == id {
			return f
		}
	}
	t.Fatalf("no %s finding in %v", id, found)
	return Finding{}
}

var capabilityRuleIDs = []string{"cap-add-all", "cap-add-dangerous", "cap-drop-all-missing"}

func TestCapabilityRules(t *testing.T) {
	runRuleCases(t, capabilityRuleIDs, []ruleCase{
		{
			name: "ALL in lower case",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_add: [all]
    cap_drop: [ALL]
`},
			want: []string{"cap-add-all@compose.yml:4"},
			check: func(t *testing.T, found []Finding) {
				f := findingOf(t, found, "cap-add-all")
				if f.Severity != High || f.Path != "services.web.cap_add[0]" || f.Message != "cap_add: all" {
					t.Errorf("cap-add-all = %s %s %q, want high services.web.cap_add[0] \"cap_add: all\"", f.Severity, f.Path, f.Message)
				}
			},
		},
		{
			name: "CAP_ALL among other capabilities",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_add:
      - NET_BIND_SERVICE
      - CAP_ALL
    cap_drop: [ALL]
`},
			want: []string{"cap-add-all@compose.yml:6"},
		},
		{
			name: "named capabilities are not ALL",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_add: [NET_BIND_SERVICE, CHOWN]
    cap_drop: [ALL]
`},
			want: nil,
		},
		{
			name: "dangerous capabilities in any spelling, one finding each",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_add:
      - cap_sys_admin
      - NET_BIND_SERVICE
      - Sys_Ptrace
      - CAP_SYSLOG
      - NOT_A_CAPABILITY
    cap_drop: [ALL]
`},
			want: []string{"cap-add-dangerous@compose.yml:5", "cap-add-dangerous@compose.yml:7", "cap-add-dangerous@compose.yml:8"},
			check: func(t *testing.T, found []Finding) {
				want := map[string]struct {
					sev  Severity
					name string
				}{
					"services.web.cap_add[0]": {High, "SYS_ADMIN"},
					"services.web.cap_add[2]": {High, "SYS_PTRACE"},
					"services.web.cap_add[3]": {Medium, "SYSLOG"},
				}
				for _, f := range found {
					w, ok := want[f.Path]
					if !ok {
						t.Errorf("finding at %s, want one of %v", f.Path, want)
						continue
					}
					if f.Severity != w.sev || !strings.HasPrefix(f.Message, "cap_add: "+w.name+" allows ") {
						t.Errorf("%s: %s %q, want %s and a message naming %s and what it allows", f.Path, f.Severity, f.Message, w.sev, w.name)
					}
				}
			},
		},
		{
			name: "default and harmless capabilities are not dangerous",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_add: [NET_BIND_SERVICE, CHOWN, DAC_OVERRIDE, SETFCAP]
    cap_drop: [ALL]
`},
			want: nil,
		},
		{
			name: "no cap_drop is located at the service",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
`},
			want: []string{"cap-drop-all-missing@compose.yml:2"},
			check: func(t *testing.T, found []Finding) {
				if f := found[0]; f.Severity != Medium || f.Path != "services.web.cap_drop" {
					t.Errorf("cap-drop-all-missing = %s %s, want medium services.web.cap_drop", f.Severity, f.Path)
				}
			},
		},
		{
			name: "cap_drop without ALL is located at cap_drop",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_drop:
      - NET_RAW
`},
			want: []string{"cap-drop-all-missing@compose.yml:4"},
			check: func(t *testing.T, found []Finding) {
				if !strings.Contains(found[0].Message, "NET_RAW") {
					t.Errorf("message %q does not name what cap_drop holds", found[0].Message)
				}
			},
		},
		{
			name: "cap_drop cap_all drops all",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_drop: [cap_all]
`},
			want: nil,
		},
		{
			name: "privileged services are still told to drop ALL",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    privileged: true
`},
			want: []string{"cap-drop-all-missing@compose.yml:2"},
		},
		{
			name: "added in compose.override.yml found by discovery",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    cap_drop: [ALL]
`,
				"compose.override.yml": `
services:
  web:
    cap_add:
      - SYS_MODULE
`},
			want: []string{"cap-add-dangerous@compose.override.yml:4"},
		},
		{
			name: "!reset in the override removes cap_add, and a reset cap_drop is located there",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    cap_add: [SYS_ADMIN, ALL]
    cap_drop: [ALL]
`,
				"compose.override.yml": `
services:
  web:
    cap_add: !reset []
    cap_drop: !reset []
`},
			want: []string{"cap-drop-all-missing@compose.override.yml:4"},
		},
		{
			name: "!override in the override replaces cap_add",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    cap_add: [SYS_ADMIN, NET_ADMIN]
    cap_drop: [ALL]
`,
				"compose.override.yml": `
services:
  web:
    cap_add: !override [NET_BIND_SERVICE]
`},
			want: nil,
		},
		{
			name: "set through extends is located in the base file",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    extends:
      file: common.yml
      service: base
    image: nginx
`,
				"common.yml": `
services:
  base:
    image: busybox
    cap_drop: [ALL]
    cap_add:
      - NET_ADMIN
`},
			want: []string{"cap-add-dangerous@common.yml:6"},
		},
		{
			name: "aliased list is located at the anchor's item",
			files: map[string]string{"compose.yml": `
x-caps: &caps
  - CHOWN
  - SYS_RAWIO
services:
  web:
    image: nginx
    cap_add: *caps
    cap_drop: [ALL]
`},
			want: []string{"cap-add-dangerous@compose.yml:3"},
		},
		{
			name: "merge key is located at the anchor's item",
			files: map[string]string{"compose.yml": `
x-base: &base
  cap_add: [ALL]
  cap_drop: [NET_RAW]
services:
  web:
    <<: *base
    image: nginx
`},
			want: []string{"cap-add-all@compose.yml:2", "cap-drop-all-missing@compose.yml:3"},
		},
		{
			name: "interpolated capability that is set",
			env:  []string{"CAPS=SYS_ADMIN"},
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_add:
      - "${CAPS}"
    cap_drop: [ALL]
`},
			want: []string{"cap-add-dangerous@compose.yml:5"},
		},
		{
			name: "interpolated capability that is not set is indeterminate",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_add:
      - "${CAPS}"
    cap_drop: ["${DROP}"]
`},
			want: []string{"cap-add-all?@compose.yml:5", "cap-add-dangerous?@compose.yml:5", "cap-drop-all-missing?@compose.yml:6"},
			check: func(t *testing.T, found []Finding) {
				for _, f := range found {
					want := []string{"CAPS"}
					if f.RuleID == "cap-drop-all-missing" {
						want = []string{"DROP"}
					}
					if !slices.Equal(f.Variables, want) {
						t.Errorf("%s: Variables = %v, want %v", f.RuleID, f.Variables, want)
					}
				}
			},
		},
	})
}

func TestCapabilityName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SYS_ADMIN", "SYS_ADMIN"},
		{"cap_sys_admin", "SYS_ADMIN"},
		{" CAP_Net_Admin ", "NET_ADMIN"},
		{"all", "ALL"},
		{"CAP_ALL", "ALL"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := capabilityName(tt.in); got != tt.want {
				t.Errorf("capabilityName(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Every capability the rule reports says what it allows, and the lesser
// ones are lowered, not dropped.
func TestDangerousCapabilitiesTable(t *testing.T) {
	for name, risk := range dangerousCapabilities {
		t.Run(name, func(t *testing.T) {
			if capabilityName(name) != name {
				t.Errorf("key %q is not in capabilityName's form", name)
			}
			if risk.allows == "" || (risk.severity != High && risk.severity != Medium) {
				t.Errorf("%s: %+v, want a reason and high or medium", name, risk)
			}
		})
	}
}

func TestBuildPrivilegedRule(t *testing.T) {
	runRuleCases(t, []string{"build-privileged"}, []ruleCase{
		{
			name: "build.privileged and the security.insecure entitlement, one from an override file",
			files: map[string]string{
				"compose.yml": `
services:
  app:
    build:
      context: .
      privileged: true
`,
				"compose.override.yml": `
services:
  app:
    build:
      entitlements:
        - network.host
        - security.insecure
`,
			},
			want: []string{"build-privileged@compose.yml:5", "build-privileged@compose.override.yml:6"},
		},
		{
			name: "a build without privilege, and a privileged service that is not built",
			files: map[string]string{"compose.yml": `
services:
  app:
    build:
      context: .
      entitlements: [network.host]
  hw:
    image: busybox
    privileged: true
`},
		},
		{
			name: "build.privileged from an unset variable is indeterminate",
			files: map[string]string{"compose.yml": `
services:
  app:
    build:
      context: .
      privileged: ${BUILD_PRIV}
`},
			want: []string{"build-privileged?@compose.yml:5"},
		},
	})
}

// An image named by an unset or required variable (${REGISTRY:?}/app is
// common where CI lacks the variable) does not stop the audit.
func TestImageFromUnsetVariable(t *testing.T) {
	runRuleCases(t, []string{"privileged"}, []ruleCase{
		{
			name: "required, unset and prefixed images",
			files: map[string]string{"compose.yml": `
services:
  a:
    image: ${IMG:?set IMG}
    privileged: true
  b:
    image: ${REG:?need}/alpine:3
    privileged: true
  c:
    image: ${IMG2}
`},
			want: []string{"privileged@compose.yml:4", "privileged@compose.yml:7"},
			check: func(t *testing.T, found []Finding) {
				for _, f := range found {
					if strings.Contains(f.Message, unsetImage) {
						t.Errorf("the placeholder image shows in a finding: %s", f.Message)
					}
				}
			},
		},
	})
}
