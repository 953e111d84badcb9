package audit

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// hostRulesCase is one audit of the mounts and devices rules: the files,
// the -f files (none: discovery) and the environment, and the findings
// wanted as rule:severity@file:line, an indeterminate one as
// rule?VAR,...@file:line.
type hostRulesCase struct {
	name  string
	files map[string]string
	load  []string
	env   []string
	want  []string
	// message, when set, must be part of the first finding's message.
	message string
	// links are symbolic links made in the project directory, name →
	// target.
	links map[string]string
}

// runHostRulesCases audits each case and compares the findings of the
// mount and device rules, leaving other groups' rules out.
func runHostRulesCases(t *testing.T, tests []hostRulesCase) {
	t.Helper()
	var ids []string
	for _, r := range slices.Concat(mountRules, deviceRules) {
		ids = append(ids, r.ID)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			for name, target := range tt.links {
				if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			report := auditDir(t, dir, tt.env, tt.load...)
			var got, messages []string
			for _, f := range report.Findings {
				if !slices.Contains(ids, f.RuleID) {
					continue
				}
				mark := ":" + f.Severity.String()
				if f.Indeterminate {
					mark = "?" + strings.Join(f.Variables, ",")
				}
				got = append(got, f.RuleID+mark+"@"+f.Location.File+":"+strconv.Itoa(f.Location.Line))
				messages = append(messages, f.Message)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("findings = %v, want %v\nmessages: %q", got, tt.want, messages)
			}
			if tt.message != "" && (len(messages) == 0 || !strings.Contains(messages[0], tt.message)) {
				t.Errorf("messages = %q, want the first to contain %q", messages, tt.message)
			}
		})
	}
}

func TestMountRules(t *testing.T) {
	runHostRulesCases(t, []hostRulesCase{
		{
			name: "docker socket, short syntax, read-only is still high",
			files: map[string]string{"compose.yml": `
services:
  agent:
    image: portainer/agent
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
`},
			want:    []string{"engine-socket:high@compose.yml:5"},
			message: "/var/run/docker.sock → /var/run/docker.sock (read-only): the Docker API",
		},
		{
			name: "docker socket, long syntax read_only, located at the item",
			files: map[string]string{"compose.yml": `
services:
  agent:
    image: portainer/agent
    volumes:
      - ./config:/config
      - type: bind
        source: /run//docker.sock
        target: /var/run/docker.sock
        read_only: true
`},
			want: []string{"engine-socket:high@compose.yml:6"},
		},
		{
			name: "/var/run mounted whole, rootless and other engines' sockets",
			files: map[string]string{"compose.yml": `
services:
  ci:
    image: busybox
    volumes:
      - /var/run:/host/run
      - /run/user/1000/docker.sock:/sock/rootless
      - /run/user/1000/podman/podman.sock:/sock/podman
      - /run/containerd/containerd.sock:/sock/containerd
      - /var/run/crio/crio.sock:/sock/crio
      - /run/buildkit:/sock/buildkit
      - /home/dev/.docker/run/docker.sock:/sock/desktop
      - /var/run/cri-dockerd.sock:/sock/cri-dockerd
`},
			want: []string{
				"engine-socket:high@compose.yml:5",
				"engine-socket:high@compose.yml:6",
				"engine-socket:high@compose.yml:7",
				"engine-socket:high@compose.yml:8",
				"engine-socket:high@compose.yml:9",
				"engine-socket:high@compose.yml:10",
				"engine-socket:high@compose.yml:11",
				"engine-socket:high@compose.yml:12",
			},
			message: "holds the Docker API socket /run/docker.sock",
		},
		{
			name: "no engine socket: named volume at the socket's target, tmpfs, a project directory",
			files: map[string]string{"compose.yml": `
services:
  proxy:
    image: tecnativa/docker-socket-proxy
    volumes:
      - proxied:/var/run/docker.sock
      - ./run:/run
      - type: tmpfs
        target: /var/run
volumes:
  proxied:
`},
			want: nil,
		},
		{
			name: "host paths: root, /etc read-only, /var above the engine's state, inside /proc, programs read-only",
			files: map[string]string{"compose.yml": `
services:
  exporter:
    image: prom/node-exporter
    volumes:
      - /:/rootfs:ro
      - /etc:/host/etc:ro
      - /var:/host/var
      - /proc/sys:/host/proc/sys
      - /lib/modules:/lib/modules:ro
      - /usr:/host/usr:ro
      - /usr/sbin:/host/sbin:ro
`},
			want: []string{
				"host-path:high@compose.yml:5",
				"host-path:high@compose.yml:6",
				"host-path:high@compose.yml:7",
				"host-path:high@compose.yml:8",
				"host-path:medium@compose.yml:9",
				"host-path:medium@compose.yml:10", // holds /usr/lib/modules
				"host-path:low@compose.yml:11",
			},
			message: "/ → /rootfs (read-only): the host's whole filesystem",
		},
		{
			name: "host paths inside /etc and /dev: listed ones only",
			files: map[string]string{"compose.yml": `
services:
  app:
    image: busybox
    volumes:
      - /etc/shadow:/etc/shadow:ro
      - /etc/passwd:/etc/passwd
      - /dev/shm:/dev/shm
`},
			want: []string{
				"host-path:high@compose.yml:6",
				"host-path:medium@compose.yml:5",
				"host-path:medium@compose.yml:7",
			},
		},
		{
			name: "no host path: named volume, tmpfs, data directory, /etc/localtime and /etc/passwd read-only",
			files: map[string]string{"compose.yml": `
services:
  db:
    image: postgres
    volumes:
      - pgdata:/var/lib/postgresql/data
      - type: tmpfs
        target: /tmp
      - /srv/backups:/backups
      - /etc/localtime:/etc/localtime:ro
      - /etc/passwd:/etc/passwd:ro
      - /dev/log:/dev/log
volumes:
  pgdata:
`},
			want: nil,
		},
		{
			name: "shared propagation, short and long syntax",
			files: map[string]string{"compose.yml": `
services:
  csi:
    image: busybox
    volumes:
      - /mnt/a:/mnt/a:rshared
      - type: bind
        source: /mnt/b
        target: /mnt/b
        bind:
          propagation: shared
`},
			want: []string{
				"mount-propagation-shared:medium@compose.yml:5",
				"mount-propagation-shared:medium@compose.yml:6",
			},
			message: "/mnt/a → /mnt/a (read-write) with propagation rshared",
		},
		{
			name: "no shared propagation: rslave and the default",
			files: map[string]string{"compose.yml": `
services:
  csi:
    image: busybox
    volumes:
      - /mnt/a:/mnt/a:rslave
      - type: bind
        source: /mnt/b
        target: /mnt/b
`},
			want: nil,
		},
		{
			name: "socket added in compose.override.yml, found by discovery",
			files: map[string]string{
				"compose.yml": `
services:
  agent:
    image: portainer/agent
    volumes:
      - ./data:/data
`,
				"compose.override.yml": `
services:
  agent:
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
`},
			want: []string{"engine-socket:high@compose.override.yml:4"},
		},
		{
			name: "!override in compose.override.yml removes the socket",
			files: map[string]string{
				"compose.yml": `
services:
  agent:
    image: portainer/agent
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
      - /:/host
`,
				"compose.override.yml": `
services:
  agent:
    volumes: !override
      - ./data:/data
`},
			want: nil,
		},
		{
			name: "the override mounts a host path at the base file's target",
			files: map[string]string{
				"compose.yml": `
services:
  agent:
    image: portainer/agent
    volumes:
      - ./data:/host
`,
				"compose.override.yml": `
services:
  agent:
    volumes:
      - /:/host
`},
			want: []string{"host-path:high@compose.override.yml:4"},
		},
		{
			name: "set through extends of another file, located in the base file",
			files: map[string]string{
				"compose.yml": `
services:
  agent:
    extends:
      file: common/base.yml
      service: docker-client
    image: docker:cli
`,
				"common/base.yml": `
services:
  docker-client:
    image: busybox
    volumes:
      - ../cache:/cache
      - /var/run/docker.sock:/var/run/docker.sock
`},
			want: []string{"engine-socket:high@common/base.yml:6"},
		},
		{
			name: "anchored list and merge key",
			files: map[string]string{"compose.yml": `
x-vols: &vols
  - /var/run/docker.sock:/var/run/docker.sock
x-host: &host
  volumes:
    - /etc:/host/etc
services:
  a:
    image: busybox
    volumes: *vols
  b:
    <<: *host
    image: busybox
`},
			want: []string{
				"engine-socket:high@compose.yml:2",
				"host-path:high@compose.yml:5",
			},
		},
		{
			name: "interpolated source, variable set",
			env:  []string{"SOCK=/var/run/docker.sock"},
			files: map[string]string{"compose.yml": `
services:
  agent:
    image: busybox
    volumes:
      - ./data:/data
      - ${SOCK}:/var/run/docker.sock
`},
			want: []string{"engine-socket:high@compose.yml:6"},
		},
		{
			name: "interpolated source, variable unset: indeterminate",
			files: map[string]string{"compose.yml": `
services:
  agent:
    image: busybox
    volumes:
      - ./data:/data
      - ${SOCK}:/var/run/docker.sock
`},
			want: []string{
				"engine-socket?SOCK@compose.yml:6",
				"host-path?SOCK@compose.yml:6",
				"mount-propagation-shared?SOCK@compose.yml:6",
			},
		},
		{
			name: "interpolated long-syntax source, variable unset: indeterminate",
			files: map[string]string{"compose.yml": `
services:
  agent:
    image: busybox
    volumes:
      - type: bind
        source: ${SOCK}
        target: /var/run/docker.sock
`},
			want: []string{
				"engine-socket?SOCK@compose.yml:6",
				"host-path?SOCK@compose.yml:6",
				"mount-propagation-shared?SOCK@compose.yml:6",
			},
		},
		{
			name: "unset prefix still leaves the socket: a finding, not indeterminate",
			files: map[string]string{"compose.yml": `
services:
  agent:
    image: busybox
    volumes:
      - ${HOST_ROOT}/var/run/docker.sock:/var/run/docker.sock
`},
			want: []string{
				"engine-socket:high@compose.yml:5",
				"host-path?HOST_ROOT@compose.yml:5",
				"mount-propagation-shared?HOST_ROOT@compose.yml:5",
			},
		},
		{
			name: "two volumes at one target: compose keeps the last, located there",
			files: map[string]string{"compose.yml": `
services:
  app:
    image: busybox
    volumes:
      - /srv:/data
      - /etc:/data
`},
			want:    []string{"host-path:high@compose.yml:6"},
			message: "volumes: /etc → /data",
		},
		{
			name: "two volumes at one target, the last harmless: no finding",
			files: map[string]string{"compose.yml": `
services:
  app:
    image: busybox
    volumes:
      - /etc:/data
      - /srv:/data
`},
			want: nil,
		},
		{
			name: "named volumes binding a host path, short and long syntax, driver local or unset",
			files: map[string]string{"compose.yml": `
services:
  agent:
    image: busybox
    volumes:
      - sock:/var/run
      - type: volume
        source: etc
        target: /host/etc
        read_only: true
volumes:
  sock:
    driver: local
    driver_opts: {type: none, o: bind, device: /var/run}
  etc:
    driver_opts: {type: none, o: bind, device: /etc}
`},
			want: []string{
				"engine-socket:high@compose.yml:5",
				"host-path:high@compose.yml:6",
			},
			message: "volume sock binds the host path /var/run (its driver_opts.device): holds the Docker API socket",
		},
		{
			name: "named volumes that bind nothing sensitive, or bind nothing: another driver, no bind option, a data directory",
			files: map[string]string{"compose.yml": `
services:
  db:
    image: postgres
    volumes:
      - nfs:/nfs
      - tmp:/tmp
      - data:/var/lib/postgresql/data
      - plain:/plain
volumes:
  nfs:
    driver: local
    driver_opts: {type: nfs, o: "addr=10.0.0.1,rw", device: ":/var/run"}
  tmp:
    driver: other
    driver_opts: {type: none, o: bind, device: /etc}
  data:
    driver_opts: {type: none, o: bind, device: ./data}
  plain: {}
`},
			want: nil,
		},
		{
			name: "secrets and configs from host files: the engine socket, /etc/shadow",
			files: map[string]string{"compose.yml": `
services:
  app:
    image: busybox
    secrets:
      - shadow
    configs:
      - source: dsock
        target: /var/run/docker.sock
secrets:
  shadow:
    file: /etc/shadow
configs:
  dsock:
    file: /var/run/docker.sock
`},
			want: []string{
				"engine-socket:high@compose.yml:7",
				"host-path:medium@compose.yml:5",
			},
			message: "configs: dsock → /var/run/docker.sock (read-only): config dsock is the host file /var/run/docker.sock (its file:): the Docker API",
		},
		{
			name: "secrets and configs from the project's files, an environment variable, content",
			files: map[string]string{"compose.yml": `
services:
  app:
    image: busybox
    secrets: [db, token]
    configs: [nginx, inline]
secrets:
  db:
    file: ./secrets/db.txt
  token:
    environment: TOKEN
configs:
  nginx:
    file: nginx.conf
  inline:
    content: "x"
`, "secrets/db.txt": "pw", "nginx.conf": "events {}"},
			want: nil,
		},
		{
			name: "bind sources that are symbolic links to the socket, a dangling one, and to /",
			files: map[string]string{"compose.yml": `
services:
  app:
    image: busybox
    volumes:
      - ./api:/var/run/d.sock
      - ./hostroot:/h
      - ./absent:/absent
`},
			links:   map[string]string{"api": "/var/run/docker.sock", "hostroot": "/", "absent": "/nonexistent/capprof"},
			want:    []string{"engine-socket:high@compose.yml:5", "host-path:high@compose.yml:6"},
			message: "/api → /var/run/d.sock (read-write): resolves to ",
		},
		{
			name: "bind sources that are symbolic links inside the project",
			files: map[string]string{"compose.yml": `
services:
  app:
    image: busybox
    volumes:
      - ./current:/data
`, "releases/v1/data.txt": "x"},
			links: map[string]string{"current": "releases/v1"},
			want:  nil,
		},
	})
}

func TestHostPathSeverity(t *testing.T) {
	tests := []struct {
		source   string
		readOnly bool
		want     Severity
	}{
		{"/", true, High},
		{"/etc", true, High},
		{"/etc/", false, High},
		{"/etc/shadow", true, Medium},
		{"/etc/shadow", false, High},
		{"/etc/passwd", true, None},
		{"/etc/localtime", false, None},
		{"/etc/ssh/ssh_host_ed25519_key", true, Medium},
		{"/root", true, High},
		{"/root/project", false, None},
		{"/root/.ssh/id_ed25519", true, High},
		{"/home", false, Medium},
		{"/home/alice/src", false, None},
		{"/proc", true, High},
		{"/proc/1/environ", true, Medium},
		{"/sys", true, High},
		{"/sys/class/net", true, Medium},
		{"/sys/fs/cgroup", false, High},
		{"/dev", true, High},
		{"/dev/log", false, None},
		{"/boot", true, Medium},
		{"/boot/config-6.8.0", true, None},
		{"/lib/modules", false, High},
		{"/lib", true, Medium}, // holds /lib/modules
		{"/usr/share/zoneinfo", true, None},
		{"/usr/local/bin", false, None},
		{"/usr/bin", false, High},
		{"/var", true, High},
		{"/var/lib", true, High},
		{"/var/lib/docker/volumes/x/_data", true, High},
		{"/var/lib/dockerd", false, None},
		{"/var/lib/kubelet/pods", true, High},
		{"/var/run/dbus", true, High},
		{"/run/systemd/journal/socket", false, None},
		{"/srv/data", false, None},
		{"/tmp/../etc", false, High},
	}
	for _, tt := range tests {
		t.Run(tt.source+":"+strconv.FormatBool(tt.readOnly), func(t *testing.T) {
			got, what := hostPathSeverity(tt.source, tt.readOnly)
			if got != tt.want {
				t.Errorf("hostPathSeverity(%q, ro=%v) = %v (%s), want %v", tt.source, tt.readOnly, got, what, tt.want)
			}
			if got != None && what == "" {
				t.Errorf("hostPathSeverity(%q) says nothing of what it exposes", tt.source)
			}
		})
	}
}
