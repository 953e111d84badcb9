package audit

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// hardeningCase is one project audited for a set of rules: want lists the
// findings of those rules as rule@file:line, indeterminate ones marked
// rule?@file:line, in report order.
type hardeningCase struct {
	name  string
	files map[string]string
	load  []string // -f files; none: discovery
	env   []string
	rules []string
	want  []string
	// vars are the variables every indeterminate finding names.
	vars []string
	// message, when set, is text every finding's Message contains.
	message string
}

// runHardeningCases audits each case's project and compares the findings of
// its rules.
func runHardeningCases(t *testing.T, tests []hardeningCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, id := range tt.rules {
				if _, ok := RuleByID(id); !ok {
					t.Fatalf("no rule %q", id)
				}
			}
			report := auditProject(t, tt.files, tt.env, tt.load...)
			var got []string
			for _, f := range report.Findings {
				if !slices.Contains(tt.rules, f.RuleID) {
					continue
				}
				mark := ""
				if f.Indeterminate {
					mark = "?"
					if !slices.Equal(f.Variables, tt.vars) {
						t.Errorf("%s: variables %v, want %v", f.RuleID, f.Variables, tt.vars)
					}
				}
				if !strings.Contains(f.Message, tt.message) {
					t.Errorf("%s: message %q does not say %q", f.RuleID, f.Message, tt.message)
				}
				if f.Why == "" || f.Fix == "" {
					t.Errorf("%s: finding without its why or fix: %+v", f.RuleID, f)
				}
				got = append(got, f.RuleID+mark+"@"+f.Location.File+":"+strconv.Itoa(f.Location.Line))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("findings = %v, want %v", got, tt.want)
			}
		})
	}
}

// service is a compose file with one service, web, whose settings are
// the lines given (indented under it): its first setting is on line 4.
func service(lines ...string) string {
	return "services:\n  web:\n    image: nginx\n    " + strings.Join(lines, "\n    ") + "\n"
}

func TestNamespaceRules(t *testing.T) {
	all := []string{"host-network", "host-pid", "host-ipc", "host-uts", "host-userns", "host-cgroup"}
	tests := []hardeningCase{
		{name: "network_mode host", files: map[string]string{"compose.yml": service("network_mode: host")},
			rules: all, want: []string{"host-network@compose.yml:4"}, message: "network_mode: host"},
		{name: "network_mode of another service shares no host namespace",
			files: map[string]string{"compose.yml": service("network_mode: service:db") + "  db:\n    image: postgres\n"},
			rules: all},
		{name: "network_mode bridge", files: map[string]string{"compose.yml": service("network_mode: bridge")}, rules: all},
		{name: "pid host", files: map[string]string{"compose.yml": service("pid: host")},
			rules: all, want: []string{"host-pid@compose.yml:4"}},
		{name: "pid of another container", files: map[string]string{"compose.yml": service("pid: container:sidecar")}, rules: all},
		{name: "ipc host", files: map[string]string{"compose.yml": service("ipc: host")},
			rules: all, want: []string{"host-ipc@compose.yml:4"}},
		{name: "ipc shareable", files: map[string]string{"compose.yml": service("ipc: shareable")}, rules: all},
		{name: "uts host", files: map[string]string{"compose.yml": service("uts: host")},
			rules: all, want: []string{"host-uts@compose.yml:4"}},
		{name: "no uts", files: map[string]string{"compose.yml": service("hostname: web")}, rules: all},
		{name: "userns_mode host", files: map[string]string{"compose.yml": service("userns_mode: host")},
			rules: all, want: []string{"host-userns@compose.yml:4"}},
		{name: "no userns_mode", files: map[string]string{"compose.yml": service("user: '1000'")}, rules: all},
		{name: "cgroup host", files: map[string]string{"compose.yml": service("cgroup: host")},
			rules: all, want: []string{"host-cgroup@compose.yml:4"}},
		{name: "cgroup private", files: map[string]string{"compose.yml": service("cgroup: private")}, rules: all},
		{
			name: "every namespace, each at its own line",
			files: map[string]string{"compose.yml": service(
				"network_mode: host", "pid: host", "ipc: host", "uts: host", "userns_mode: host", "cgroup: host")},
			rules: all,
			// Report order: most severe first, then by line.
			want: []string{
				"host-network@compose.yml:4", "host-pid@compose.yml:5",
				"host-ipc@compose.yml:6", "host-userns@compose.yml:8", "host-cgroup@compose.yml:9",
				"host-uts@compose.yml:7",
			},
		},
		{
			name: "set in compose.override.yml found by discovery",
			files: map[string]string{
				"compose.yml":          service("pid: service:db") + "  db:\n    image: postgres\n",
				"compose.override.yml": "services:\n  web:\n    pid: host\n",
			},
			rules: all, want: []string{"host-pid@compose.override.yml:3"},
		},
		{
			name: "!reset in the override file",
			files: map[string]string{
				"compose.yml":          service("network_mode: host"),
				"compose.override.yml": "services:\n  web:\n    network_mode: !reset null\n",
			},
			rules: all,
		},
		{
			name: "later -f file replaces host",
			files: map[string]string{
				"a.yml": service("ipc: host"),
				"b.yml": "services:\n  web:\n    ipc: private\n",
			},
			load: []string{"a.yml", "b.yml"}, rules: all,
		},
		{
			name: "extends from another file is located in the base",
			files: map[string]string{
				"compose.yml": "services:\n  web:\n    extends:\n      file: common/base.yml\n      service: base\n",
				"common/base.yml": `
services:
  base:
    image: busybox
    ipc: host
    userns_mode: host
`},
			rules: all, want: []string{"host-ipc@common/base.yml:4", "host-userns@common/base.yml:5"},
		},
		{
			name: "merge key is located at the anchor",
			files: map[string]string{"compose.yml": `
x-defaults: &defaults
  network_mode: host
  restart: always
services:
  web:
    <<: *defaults
    image: nginx
`},
			rules: all, want: []string{"host-network@compose.yml:2"},
		},
		{
			name: "an aliased scalar is located at the key that uses it",
			files: map[string]string{"compose.yml": `
x-mode: &mode host
services:
  web:
    image: nginx
    uts: *mode
`},
			rules: all, want: []string{"host-uts@compose.yml:5"},
		},
		{
			name:  "interpolated variable set to host",
			files: map[string]string{"compose.yml": service("pid: ${PIDMODE}")},
			env:   []string{"PIDMODE=host"},
			rules: all, want: []string{"host-pid@compose.yml:4"},
		},
		{
			name: "interpolated from .env",
			files: map[string]string{
				".env":        "NETMODE=host\n",
				"compose.yml": service("network_mode: ${NETMODE}"),
			},
			rules: all, want: []string{"host-network@compose.yml:4"},
		},
		{
			name:  "interpolated variable set to something else",
			files: map[string]string{"compose.yml": service("pid: ${PIDMODE}")},
			env:   []string{"PIDMODE=container:sidecar"},
			rules: all,
		},
		{
			name:  "unset variable is indeterminate",
			files: map[string]string{"compose.yml": service("pid: ${PIDMODE}")},
			rules: all, want: []string{"host-pid?@compose.yml:4"}, vars: []string{"PIDMODE"},
		},
		{
			name:  "a default is no unset variable",
			files: map[string]string{"compose.yml": service("cgroup: ${CGROUP:-private}")},
			rules: all,
		},
	}
	runHardeningCases(t, tests)
}
