package audit

import (
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestReadOnlyRootfsRule(t *testing.T) {
	rules := []string{"read-only-rootfs-missing"}
	tests := []hardeningCase{
		{name: "missing is located at the service", files: map[string]string{"compose.yml": service("restart: always")},
			rules: rules, want: []string{"read-only-rootfs-missing@compose.yml:2"}},
		{name: "false is located at the key", files: map[string]string{"compose.yml": service("read_only: false")},
			rules: rules, want: []string{"read-only-rootfs-missing@compose.yml:4"}},
		{name: "true", files: map[string]string{"compose.yml": service("read_only: true")}, rules: rules},
		{
			name: "set in compose.override.yml found by discovery",
			files: map[string]string{
				"compose.yml":          service("read_only: true"),
				"compose.override.yml": "services:\n  web:\n    read_only: false\n",
			},
			rules: rules, want: []string{"read-only-rootfs-missing@compose.override.yml:3"},
		},
		{
			name: "!reset in the override file removes read_only: true",
			files: map[string]string{
				"compose.yml":          service("read_only: true"),
				"compose.override.yml": "services:\n  web:\n    read_only: !reset null\n",
			},
			rules: rules, want: []string{"read-only-rootfs-missing@compose.override.yml:3"},
		},
		{
			name: "extends a read-only base",
			files: map[string]string{
				"compose.yml": "services:\n  web:\n    extends:\n      file: base.yml\n      service: base\n",
				"base.yml":    "services:\n  base:\n    image: busybox\n    read_only: true\n",
			},
			rules: rules,
		},
		{name: "unset variable is indeterminate, not a plain finding", files: map[string]string{"compose.yml": service("read_only: ${RO}")},
			rules: rules, want: []string{"read-only-rootfs-missing?@compose.yml:4"}, vars: []string{"RO"}},
		{name: "variable set to true", files: map[string]string{"compose.yml": service("read_only: ${RO}")},
			env: []string{"RO=true"}, rules: rules},
		{name: "variable set to false", files: map[string]string{"compose.yml": service("read_only: ${RO}")},
			env: []string{"RO=false"}, rules: rules, want: []string{"read-only-rootfs-missing@compose.yml:4"}},
	}
	runHardeningCases(t, tests)
}

func TestRunsAsRootRule(t *testing.T) {
	rules := []string{"runs-as-root"}
	tests := []hardeningCase{
		{name: "unset: the image's default", files: map[string]string{"compose.yml": service("restart: always")},
			rules: rules, want: []string{"runs-as-root@compose.yml:2"}, message: "image's default user"},
		{name: "root", files: map[string]string{"compose.yml": service("user: root")},
			rules: rules, want: []string{"runs-as-root@compose.yml:4"}, message: `user: "root" runs as root`},
		{name: "uid 0 with a group", files: map[string]string{"compose.yml": service("user: '0:1000'")},
			rules: rules, want: []string{"runs-as-root@compose.yml:4"}},
		{name: "non-root uid", files: map[string]string{"compose.yml": service("user: '1000:1000'")}, rules: rules},
		{name: "named user", files: map[string]string{"compose.yml": service("user: nginx")}, rules: rules},
		{
			name: "set in compose.override.yml found by discovery",
			files: map[string]string{
				"compose.yml":          service("user: '1000'"),
				"compose.override.yml": "services:\n  web:\n    user: root\n",
			},
			rules: rules, want: []string{"runs-as-root@compose.override.yml:3"},
		},
		{
			name: "merge key is located at the anchor",
			files: map[string]string{"compose.yml": `
x-defaults: &defaults
  user: "0:0"
services:
  web:
    <<: *defaults
    image: nginx
`},
			rules: rules, want: []string{"runs-as-root@compose.yml:2"},
		},
		{
			name: "merge key with a non-root user",
			files: map[string]string{"compose.yml": `
x-defaults: &defaults
  user: "65534"
services:
  web:
    <<: *defaults
    image: nginx
`},
			rules: rules,
		},
		{name: "unset variable is indeterminate", files: map[string]string{"compose.yml": service("user: ${APP_UID}")},
			rules: rules, want: []string{"runs-as-root?@compose.yml:4"}, vars: []string{"APP_UID"}},
		{name: "variable set to a non-root uid", files: map[string]string{"compose.yml": service(`user: "${APP_UID}:${APP_GID}"`)},
			env: []string{"APP_UID=1000", "APP_GID=1000"}, rules: rules},
	}
	runHardeningCases(t, tests)
}

func TestRootUser(t *testing.T) {
	tests := []struct {
		user string
		root bool
	}{
		{"root", true},
		{"0", true},
		{"0:0", true},
		{"root:root", true},
		{"0:1000", true},
		{"root:wheel", true},
		{"00", true},
		{":1000", true},
		{"1000", false},
		{"1000:0", false},
		{"nobody:nogroup", false},
		{"rootless", false},
		{"Root", false}, // user names are case-sensitive
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			if got := rootUser(tt.user); got != tt.root {
				t.Errorf("rootUser(%q) = %v, want %v", tt.user, got, tt.root)
			}
		})
	}
}

func TestResourceLimitRules(t *testing.T) {
	pids := []string{"pids-limit-missing"}
	mem := []string{"memory-limit-missing"}
	cpu := []string{"cpu-limit-missing"}
	limits := func(lines ...string) string {
		return service(append([]string{"deploy:", "  resources:", "    limits:"}, prefixed("      ", lines)...)...)
	}
	tests := []hardeningCase{
		{name: "pids: missing", files: map[string]string{"compose.yml": service("restart: always")},
			rules: pids, want: []string{"pids-limit-missing@compose.yml:2"}},
		{name: "pids: pids_limit", files: map[string]string{"compose.yml": service("pids_limit: 256")}, rules: pids},
		{name: "pids: deploy limit", files: map[string]string{"compose.yml": limits("pids: 256")}, rules: pids},
		{name: "pids: -1 is unlimited", files: map[string]string{"compose.yml": service("pids_limit: -1")},
			rules: pids, want: []string{"pids-limit-missing@compose.yml:4"}, message: "pids_limit: -1"},
		{name: "pids: 0 is unlimited", files: map[string]string{"compose.yml": service("pids_limit: 0")},
			rules: pids, want: []string{"pids-limit-missing@compose.yml:4"}},
		{name: "pids: deploy -1 is located at the nested key", files: map[string]string{"compose.yml": limits("pids: -1")},
			rules: pids, want: []string{"pids-limit-missing@compose.yml:7"}, message: "deploy.resources.limits.pids: -1"},
		{
			name: "pids: unlimited in compose.override.yml found by discovery",
			files: map[string]string{
				"compose.yml":          service("restart: always"),
				"compose.override.yml": "services:\n  web:\n    pids_limit: -1\n",
			},
			rules: pids, want: []string{"pids-limit-missing@compose.override.yml:3"},
		},
		{name: "pids: unset variable is indeterminate", files: map[string]string{"compose.yml": service("pids_limit: ${PIDS}")},
			rules: pids, want: []string{"pids-limit-missing?@compose.yml:4"}, vars: []string{"PIDS"}},
		{name: "pids: variable set", files: map[string]string{"compose.yml": service("pids_limit: ${PIDS}")},
			env: []string{"PIDS=100"}, rules: pids},

		{name: "memory: missing", files: map[string]string{"compose.yml": service("restart: always")},
			rules: mem, want: []string{"memory-limit-missing@compose.yml:2"}},
		{name: "memory: mem_limit", files: map[string]string{"compose.yml": service("mem_limit: 512m")}, rules: mem},
		{name: "memory: deploy limit", files: map[string]string{"compose.yml": limits("memory: 512M")}, rules: mem},
		{
			name: "memory: limit set in compose.override.yml found by discovery",
			files: map[string]string{
				"compose.yml":          service("restart: always"),
				"compose.override.yml": "services:\n  web:\n    mem_limit: 1g\n",
			},
			rules: mem,
		},
		{
			name: "memory: !reset in the override file removes the limit",
			files: map[string]string{
				"compose.yml":          service("restart: always", "mem_limit: 1g"),
				"compose.override.yml": "services:\n  web:\n    mem_limit: !reset null\n",
			},
			rules: mem, want: []string{"memory-limit-missing@compose.override.yml:3"},
		},
		{
			name: "memory: limit through extends from another file",
			files: map[string]string{
				"compose.yml": "services:\n  web:\n    extends:\n      file: common/base.yml\n      service: base\n",
				"common/base.yml": `
services:
  base:
    image: busybox
    deploy:
      resources:
        limits:
          memory: 256M
`},
			rules: mem,
		},
		{
			name: "memory: limit through a merge key",
			files: map[string]string{"compose.yml": `
x-limits: &limits
  mem_limit: 256m
services:
  web:
    <<: *limits
    image: nginx
`},
			rules: mem,
		},
		{name: "memory: unset variable in deploy is indeterminate", files: map[string]string{"compose.yml": service("deploy:", "  resources:", "    limits:", "      memory: ${MEMORY}")},
			rules: mem, want: []string{"memory-limit-missing?@compose.yml:7"}, vars: []string{"MEMORY"}},

		{name: "cpu: missing", files: map[string]string{"compose.yml": service("restart: always")},
			rules: cpu, want: []string{"cpu-limit-missing@compose.yml:2"}},
		{name: "cpu: cpus", files: map[string]string{"compose.yml": service("cpus: 1.5")}, rules: cpu},
		{name: "cpu: cpu_quota over cpu_period", files: map[string]string{"compose.yml": service("cpu_quota: 50000", "cpu_period: 100000")}, rules: cpu},
		{name: "cpu: cpu_quota over the default period", files: map[string]string{"compose.yml": service("cpu_quota: 50000")}, rules: cpu},
		{name: "cpu: deploy limit", files: map[string]string{"compose.yml": limits("cpus: '0.5'")}, rules: cpu},
		{name: "cpu: cpu_shares is a weight, not a limit", files: map[string]string{"compose.yml": service("cpu_shares: 512")},
			rules: cpu, want: []string{"cpu-limit-missing@compose.yml:2"}},
		{name: "cpu: cpuset pins, it does not limit", files: map[string]string{"compose.yml": service("cpuset: '0'")},
			rules: cpu, want: []string{"cpu-limit-missing@compose.yml:2"}},
		{name: "cpu: unset variable is indeterminate", files: map[string]string{"compose.yml": service("cpus: ${CPUS}")},
			rules: cpu, want: []string{"cpu-limit-missing?@compose.yml:4"}, vars: []string{"CPUS"}},
		{name: "cpu: variable set", files: map[string]string{"compose.yml": service("cpus: ${CPUS}")},
			env: []string{"CPUS=2"}, rules: cpu},
	}
	runHardeningCases(t, tests)
}

func prefixed(prefix string, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = prefix + l
	}
	return out
}

func TestPortsAllInterfacesRule(t *testing.T) {
	rules := []string{"ports-all-interfaces"}
	ports := func(items ...string) string {
		return service(append([]string{"ports:"}, prefixed("  - ", items)...)...)
	}
	tests := []hardeningCase{
		{name: "short syntax without a host address", files: map[string]string{"compose.yml": ports(`"8080:80"`)},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:5"}, message: "8080:80/tcp"},
		{name: "container port only: a random host port on every interface", files: map[string]string{"compose.yml": ports(`"80"`)},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:5"}, message: "random host port"},
		{name: "integer item", files: map[string]string{"compose.yml": ports("80")},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:5"}},
		{name: "0.0.0.0", files: map[string]string{"compose.yml": ports(`"0.0.0.0:8080:80"`)},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:5"}},
		{name: "[::]", files: map[string]string{"compose.yml": ports(`"[::]:8080:80"`)},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:5"}},
		{name: "loopback", files: map[string]string{"compose.yml": ports(`"127.0.0.1:8080:80"`, `"[::1]:8443:443"`)}, rules: rules},
		{name: "loopback with a random host port", files: map[string]string{"compose.yml": ports(`"127.0.0.1::80"`)}, rules: rules},
		{name: "only the item without a host address", files: map[string]string{"compose.yml": ports(`"127.0.0.1:8080:80"`, `"8443:443"`)},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:6"}},
		{
			name: "long syntax without host_ip",
			files: map[string]string{"compose.yml": service(
				"ports:", "  - target: 80", "    host_ip: 127.0.0.1", "    published: 8080",
				"  - target: 53", "    published: \"53\"", "    protocol: udp")},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:8"}, message: "53:53/udp",
		},
		{
			name: "long syntax with host_ip 0.0.0.0",
			files: map[string]string{"compose.yml": service(
				"ports:", "  - target: 80", "    host_ip: 0.0.0.0", "    published: 8080")},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:5"},
		},
		{name: "expose is not publishing", files: map[string]string{"compose.yml": service("expose: ['80']")}, rules: rules},
		{name: "a range is one finding", files: map[string]string{"compose.yml": ports(`"98-100:98-100"`)},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:5"}, message: "98-100:98-100/tcp"},
		{name: "host network publishes nothing", files: map[string]string{"compose.yml": service("network_mode: host", `ports: ["8080:80"]`)}, rules: rules},
		{
			name: "added in compose.override.yml found by discovery",
			files: map[string]string{
				"compose.yml":          ports(`"127.0.0.1:8080:80"`),
				"compose.override.yml": "services:\n  web:\n    ports:\n      - \"9229:9229\"\n",
			},
			rules: rules, want: []string{"ports-all-interfaces@compose.override.yml:4"},
		},
		{
			name: "!reset [] in the override file",
			files: map[string]string{
				"compose.yml":          ports(`"8080:80"`),
				"compose.override.yml": "services:\n  web:\n    ports: !reset []\n",
			},
			rules: rules,
		},
		{
			name: "extends from another file is located in the base",
			files: map[string]string{
				"compose.yml": "services:\n  web:\n    extends:\n      file: common/base.yml\n      service: base\n",
				"common/base.yml": `
services:
  base:
    image: busybox
    ports:
      - "127.0.0.1:9000:9000"
      - "8080:80"
`},
			rules: rules, want: []string{"ports-all-interfaces@common/base.yml:6"},
		},
		{
			name: "aliased list is located at the anchor's item",
			files: map[string]string{"compose.yml": `
x-ports: &ports
  - "8080:80"
services:
  web:
    image: nginx
    ports: *ports
`},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:2"},
		},
		{
			name:  "interpolated host address set to all interfaces",
			files: map[string]string{"compose.yml": ports(`"${BIND}:8080:80"`)},
			env:   []string{"BIND=0.0.0.0"},
			rules: rules, want: []string{"ports-all-interfaces@compose.yml:5"},
		},
		{
			name:  "interpolated host address set to loopback",
			files: map[string]string{"compose.yml": ports(`"${BIND}:8080:80"`)},
			env:   []string{"BIND=127.0.0.1"},
			rules: rules,
		},
		{
			name:  "unset variable in a loopback port is indeterminate",
			files: map[string]string{"compose.yml": ports(`"127.0.0.1:${PORT:-8080}:80"`, `"127.0.0.1:${ADMIN_PORT}:81"`)},
			rules: rules, want: []string{"ports-all-interfaces?@compose.yml:6"}, vars: []string{"ADMIN_PORT"},
		},
	}
	runHardeningCases(t, tests)
}

func TestPortsAllInterfacesSeverity(t *testing.T) {
	rule, ok := RuleByID("ports-all-interfaces")
	if !ok {
		t.Fatal("no rule ports-all-interfaces")
	}
	tests := []struct {
		name    string
		ports   []types.ServicePortConfig
		want    []Severity
		message string
	}{
		{name: "web port", ports: []types.ServicePortConfig{{Target: 80, Published: "8080", Protocol: "tcp"}}, want: []Severity{None}, message: "8080:80/tcp"},
		{name: "database", ports: []types.ServicePortConfig{{Target: 5432, Published: "5432", Protocol: "tcp"}}, want: []Severity{Medium}, message: "(PostgreSQL)"},
		{name: "engine API without TLS", ports: []types.ServicePortConfig{{Target: 2375, Published: "2375", Protocol: "tcp"}}, want: []Severity{High}, message: "Docker Engine API"},
		{name: "SSH over TCP", ports: []types.ServicePortConfig{{Target: 22, Published: "8080", Protocol: "tcp"}}, want: []Severity{Medium}, message: "(SSH)"},
		{name: "port 22 over UDP is no SSH", ports: []types.ServicePortConfig{{Target: 22, Published: "8080", Protocol: "udp"}}, want: []Severity{None}, message: "8080:22/udp is published on every host interface"},
		{name: "database on loopback", ports: []types.ServicePortConfig{{HostIP: "127.0.0.1", Target: 6379, Published: "6379", Protocol: "tcp"}}},
		{
			name: "two separate ports",
			ports: []types.ServicePortConfig{
				{Target: 80, Published: "80", Protocol: "tcp"},
				{Target: 443, Published: "443", Protocol: "tcp"},
			},
			want: []Severity{None, None},
		},
		{
			name: "same number, other protocol",
			ports: []types.ServicePortConfig{
				{Target: 53, Published: "53", Protocol: "tcp"},
				{Target: 53, Published: "53", Protocol: "udp"},
			},
			want: []Severity{None, None},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := rule.Check(&types.ServiceConfig{Name: "web", WorkloadSpec: types.WorkloadSpec{Ports: tt.ports}}, &types.Project{})
			var got []Severity
			for _, h := range hits {
				got = append(got, h.Severity)
				if !strings.Contains(h.Message, tt.message) {
					t.Errorf("message %q does not say %q", h.Message, tt.message)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("hits = %v, want severities %v", hits, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("hit %d severity = %v, want %v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestLimitRulesReadOnlyTheirPath: an unset variable elsewhere under
// deploy leaves the limit rules decided, and one in a limit is reported
// at that limit.
func TestLimitRulesReadOnlyTheirPath(t *testing.T) {
	limits := []string{"pids-limit-missing", "memory-limit-missing", "cpu-limit-missing"}
	runHardeningCases(t, []hardeningCase{
		{
			name:  "unset replicas, limits set",
			rules: limits,
			files: map[string]string{"compose.yml": service(
				"deploy:",
				"  replicas: ${N}",
				"  resources:",
				"    limits: {memory: 256m, pids: 100, cpus: '0.5'}",
			)},
			want: nil,
		},
		{
			name:  "unset replicas, no limits",
			rules: limits,
			files: map[string]string{"compose.yml": service(
				"deploy:",
				"  replicas: ${N}",
			)},
			want: []string{"cpu-limit-missing@compose.yml:2", "memory-limit-missing@compose.yml:2", "pids-limit-missing@compose.yml:2"},
		},
		{
			name:  "unset memory limit",
			rules: limits,
			vars:  []string{"MEM"},
			files: map[string]string{"compose.yml": service(
				"deploy:",
				"  resources:",
				"    limits:",
				"      pids: 100",
				"      cpus: '0.5'",
				"      memory: ${MEM}",
			)},
			want: []string{"memory-limit-missing?@compose.yml:9"},
		},
		{
			name:  "unset mem_limit loads and is indeterminate",
			rules: limits,
			vars:  []string{"MEM"},
			files: map[string]string{"compose.yml": service(
				"pids_limit: 100",
				"cpus: 0.5",
				"mem_limit: ${MEM}",
			)},
			want: []string{"memory-limit-missing?@compose.yml:6"},
		},
	})
}
