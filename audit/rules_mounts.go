package audit

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/transform"
	"github.com/compose-spec/compose-go/v2/types"
)

// mountRules: volumes, and the secrets and configs read from files:
// engine sockets, sensitive host paths, mount propagation.
//
// A host path reaches the container through a bind mount, a named volume
// whose local driver binds a device (driver_opts: {o: bind, device: PATH}),
// or a secret or config with file: PATH, which compose bind-mounts; the
// engine-socket and host-path rules read them all through hostMounts.
var mountRules = []Rule{
	{
		ID:       "engine-socket",
		Severity: High,
		Title:    "container engine socket mounted",
		Why:      "the engine's API starts a privileged container with the host's / mounted: whoever reaches the socket is root on the host, and :ro only makes the socket file read-only, not the API",
		Fix:      "remove the mount; if the service must drive the engine, give it a socket proxy that allows only the API calls it makes",
		Fields:   []string{"volumes", "secrets", "configs"},
		Check: func(svc *types.ServiceConfig, project *types.Project) []Hit {
			var hits []Hit
			for _, m := range hostMounts(svc, project) {
				what, ok := m.engineSocket()
				if !ok {
					continue
				}
				hits = append(hits, m.hit(what, None))
			}
			return hits
		},
	},
	{
		ID:       "host-path",
		Severity: High,
		Title:    "sensitive host path mounted",
		Why:      "a host path in the container is reached past every isolation: root inside reads the host's secrets in it and, read-write, rewrites what the host runs as root",
		Fix:      "mount only the files the service needs, read-only, from a directory of their own; keep data in named volumes",
		Fields:   []string{"volumes", "secrets", "configs"},
		Check: func(svc *types.ServiceConfig, project *types.Project) []Hit {
			var hits []Hit
			for _, m := range hostMounts(svc, project) {
				if _, ok := m.engineSocket(); ok || m.pipe {
					// engine-socket reports it, at least as severe.
					continue
				}
				sev, what := hostPathSeverity(m.source, m.readOnly)
				if m.resolved != "" {
					if s, w := hostPathSeverity(m.resolved, m.readOnly); s > sev {
						sev, what = s, "resolves to "+m.resolved+": "+w
					}
				}
				if sev == None {
					continue
				}
				hits = append(hits, m.hit(what, sev))
			}
			return hits
		},
	},
	{
		ID:       "mount-propagation-shared",
		Severity: Medium,
		Title:    "bind mount with shared propagation",
		Why:      "with shared propagation, mounts made inside the container appear on the host: a container that can mount covers host paths with its own files",
		Fix:      "drop the propagation option (rprivate), or use rslave if the container must see the host's later mounts",
		Fields:   []string{"volumes"},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			var hits []Hit
			for i, v := range svc.Volumes {
				if v.Type != types.VolumeTypeBind || v.Bind == nil {
					continue
				}
				if p := v.Bind.Propagation; p != types.PropagationShared && p != types.PropagationRShared {
					continue
				}
				hits = append(hits, Hit{
					Key:     "volumes",
					Item:    itemWithTarget("volumes", v.Target),
					Index:   i,
					Subject: path.Clean(v.Target),
					Message: fmt.Sprintf("volumes: %s with propagation %s", mountText(v), v.Bind.Propagation),
				})
			}
			return hits
		},
	},
}

// hostMount is a host path a service puts in its container.
type hostMount struct {
	// key, item and index locate the service's setting: its volumes,
	// secrets or configs item.
	key   string
	item  func(Item) bool
	index int
	// subject names the item whatever its position: the volume's target,
	// the secret's or config's name.
	subject string
	// text names the setting in a message: "volumes: /etc → /e (read-only)".
	text string
	// source is the host path, absolute; resolved is where its symbolic
	// links lead when it exists on this machine and has any, else "".
	source, resolved string
	// origin says where source comes from when the setting does not show
	// it: a named volume's driver_opts.device, a secret's file.
	origin   string
	readOnly bool
	// pipe marks a Windows named pipe.
	pipe bool
}

// hostMounts returns the host paths the service mounts: bind mounts and
// named pipes, named volumes that bind a host path, and the files of its
// secrets and configs.
func hostMounts(svc *types.ServiceConfig, project *types.Project) []hostMount {
	var out []hostMount
	for i, v := range svc.Volumes {
		m := hostMount{key: "volumes", item: itemWithTarget("volumes", v.Target), index: i, subject: path.Clean(v.Target), text: "volumes: " + mountText(v), readOnly: v.ReadOnly}
		switch v.Type {
		case types.VolumeTypeBind:
			m.source = v.Source
		case types.VolumeTypeNamedPipe:
			m.source, m.pipe = v.Source, true
		case types.VolumeTypeVolume:
			device, ro, ok := boundDevice(project, v.Source)
			if !ok {
				continue
			}
			m.source, m.readOnly = device, m.readOnly || ro
			m.origin = fmt.Sprintf("volume %s binds the host path %s (its driver_opts.device)", v.Source, device)
		default:
			continue
		}
		out = append(out, m.withResolved())
	}
	for i, s := range svc.Secrets {
		if m, ok := fileMount("secrets", "secret", i, types.FileReferenceConfig(s), secretFile(project, s.Source), "/run/secrets/"); ok {
			out = append(out, m.withResolved())
		}
	}
	for i, c := range svc.Configs {
		if m, ok := fileMount("configs", "config", i, types.FileReferenceConfig(c), configFile(project, c.Source), "/"); ok {
			out = append(out, m.withResolved())
		}
	}
	return out
}

// boundDevice returns the host path a named volume binds: the local
// driver (the default) with the bind or rbind mount option mounts its
// device as a bind mount would. A relative device is the project
// directory's, as compose resolves it.
func boundDevice(project *types.Project, name string) (device string, readOnly, ok bool) {
	if project == nil || name == "" {
		return "", false, false
	}
	vol, found := project.Volumes[name]
	if !found || bool(vol.External) || (vol.Driver != "" && vol.Driver != "local") {
		return "", false, false
	}
	device = vol.DriverOpts["device"]
	if device == "" {
		return "", false, false
	}
	bind := false
	for opt := range strings.SplitSeq(vol.DriverOpts["o"], ",") {
		switch strings.TrimSpace(opt) {
		case "bind", "rbind":
			bind = true
		case "ro":
			readOnly = true
		}
	}
	if !bind {
		return "", false, false
	}
	if !filepath.IsAbs(device) {
		device = filepath.Join(project.WorkingDir, device)
	}
	return device, readOnly, true
}

func secretFile(project *types.Project, name string) string {
	if project == nil {
		return ""
	}
	return project.Secrets[name].File
}

func configFile(project *types.Project, name string) string {
	if project == nil {
		return ""
	}
	return project.Configs[name].File
}

// fileMount is the mount of a secret's or config's file, which compose
// bind-mounts read-only at its target: by default defaultDir plus the
// secret's or config's name, a relative target below defaultDir.
func fileMount(key, kind string, i int, ref types.FileReferenceConfig, file, defaultDir string) (hostMount, bool) {
	if file == "" {
		return hostMount{}, false
	}
	target := ref.Target
	switch {
	case target == "":
		target = defaultDir + ref.Source
	case !path.IsAbs(target):
		target = defaultDir + target
	}
	source := ref.Source
	return hostMount{
		key:      key,
		item:     fileReferenceNamed(source),
		index:    i,
		subject:  source,
		text:     fmt.Sprintf("%s: %s → %s (read-only)", key, source, target),
		source:   file,
		origin:   fmt.Sprintf("%s %s is the host file %s (its file:)", kind, source, file),
		readOnly: true,
	}, true
}

// fileReferenceNamed matches the secrets or configs item that names
// source: the short syntax's scalar or the long syntax's source.
func fileReferenceNamed(source string) func(Item) bool {
	return func(it Item) bool {
		if s, ok := it.Scalar(); ok {
			return s == source
		}
		s, ok := it.Field("source")
		return ok && s == source
	}
}

// withResolved sets resolved when the source exists here and its path
// holds a symbolic link: ./api may be a link to /var/run/docker.sock. A
// link whose target does not exist here (no Docker on the machine that
// audits) is read once; a path that does not exist is checked as written.
func (m hostMount) withResolved() hostMount {
	if m.pipe || m.source == "" {
		return m
	}
	r, err := filepath.EvalSymlinks(m.source)
	if err != nil {
		if r, err = readLink(m.source); err != nil {
			return m
		}
	}
	if hostPathKey(r) != hostPathKey(m.source) {
		m.resolved = r
	}
	return m
}

// readLink returns the target of the symbolic link p, absolute.
func readLink(p string) (string, error) {
	target, err := os.Readlink(p)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(p), target)
	}
	return filepath.Clean(target), nil
}

// engineSocket tells whether the mount puts a container engine's socket in
// the container, and which: by its path, else by where its symbolic links
// lead.
func (m hostMount) engineSocket() (string, bool) {
	if m.pipe {
		// Docker for Windows listens on \\.\pipe\docker_engine.
		if strings.HasSuffix(strings.ToLower(m.source), `\docker_engine`) {
			return "the Docker API", true
		}
		return "", false
	}
	if what, ok := engineSocketAt(m.source); ok {
		return what, true
	}
	if m.resolved != "" {
		if what, ok := engineSocketAt(m.resolved); ok {
			return "resolves to " + m.resolved + ": " + what, true
		}
	}
	return "", false
}

// hit is a finding at the mount's setting, saying what it exposes.
func (m hostMount) hit(what string, sev Severity) Hit {
	msg := m.text + ": "
	if m.origin != "" {
		msg += m.origin + ": "
	}
	return Hit{Key: m.key, Item: m.item, Index: m.index, Subject: m.subject, Message: msg + what, Severity: sev}
}

// engineSockets are the container engines' API sockets by file name:
// wherever such a socket lives (rootless, Docker Desktop's ~/.docker/run,
// a snap), mounting it hands over the engine.
var engineSockets = map[string]string{
	"docker.sock":      "the Docker API",
	"containerd.sock":  "the containerd API",
	"podman.sock":      "the Podman API",
	"crio.sock":        "the CRI-O API",
	"buildkitd.sock":   "the BuildKit API",
	"cri-dockerd.sock": "the Docker API, through cri-dockerd",
}

// engineSocketPaths are where the engines create their sockets, /var/run
// read as /run (its symlink on every current distribution). Mounting a
// directory above one, up to /run itself, mounts the socket with it; / and
// /var are left to host-path, which reports them as the whole host.
var engineSocketPaths = []string{
	"/run/docker.sock",
	"/run/containerd/containerd.sock",
	"/run/podman/podman.sock",
	"/run/crio/crio.sock",
	"/run/buildkit/buildkitd.sock",
	"/run/cri-dockerd.sock",
	"/run/user/*/docker.sock",
	"/run/user/*/podman/podman.sock",
	"/run/user/*/buildkit/buildkitd.sock",
}

// engineSocketAt tells whether a host path is a container engine's socket
// or a directory holding one, and which.
func engineSocketAt(source string) (string, bool) {
	src := hostPathKey(source)
	if what, ok := engineSockets[path.Base(src)]; ok {
		return what, true
	}
	if src == "/" {
		return "", false
	}
	for _, sock := range engineSocketPaths {
		if covers(src, sock) {
			return "holds " + engineSockets[path.Base(sock)] + " socket " + sock, true
		}
	}
	return "", false
}

// hostPath is a host path whose mount the host-path rule reports.
type hostPath struct {
	path string
	// rw and ro rank a mount of the path itself or of a directory above
	// it, read-write and read-only; below ranks a mount of a path inside
	// it. None is not reported.
	rw, ro           Severity
	belowRW, belowRO Severity
	// what says what the path holds.
	what string
}

// hostPaths are the host paths worth reporting, each directory before the
// paths inside it. The choices:
//   - /, /etc, /root, /proc, /sys, /dev and the engines' state stay High
//     read-only: they hold secrets (password hashes, keys, other
//     containers' files, host processes' environment), and a read-only
//     bind neither stops writes to device nodes nor, on engines without
//     recursive read-only mounts, reaches submounts such as /sys/fs/cgroup.
//   - Programs, libraries, kernel modules and /boot are High read-write
//     (the host runs them as root) but hold nothing secret: read-only they
//     are Medium for kernel modules and /boot (the exact kernel, for an
//     exploit) and Low for the rest.
//   - Inside /etc, /root, /usr and /home only the listed paths count:
//     /etc/localtime:ro, a project kept under /root or /home, /usr/share
//     are common and harmless, and compose resolves relative sources
//     against the project directory wherever it lies.
//   - Inside /proc, /sys and /dev every path is a kernel interface: Medium
//     (High for /proc read-write), bar /dev/log, the syslog socket.
//   - /run and /var/run are engine-socket's: they hold the Docker socket.
var hostPaths = []hostPath{
	{path: "/", rw: High, ro: High, what: "the host's whole filesystem"},
	{path: "/etc", rw: High, ro: High, what: "the host's configuration: accounts, password hashes, sudoers, cron, keys"},
	{path: "/etc/shadow", rw: High, ro: Medium, what: "the host's password hashes"},
	{path: "/etc/gshadow", rw: High, ro: Medium, what: "the host's group password hashes"},
	{path: "/etc/passwd", rw: High, what: "the host's accounts: a line with uid 0 is a new root"},
	{path: "/etc/group", rw: High, what: "the host's groups: membership of sudo or docker is root"},
	{path: "/etc/sudoers", rw: High, what: "who may become root on the host"},
	{path: "/etc/sudoers.d", rw: High, belowRW: High, what: "who may become root on the host"},
	{path: "/etc/crontab", rw: High, what: "jobs the host runs as root"},
	{path: "/etc/cron.d", rw: High, belowRW: High, what: "jobs the host runs as root"},
	{path: "/etc/systemd", rw: High, belowRW: High, what: "services the host starts as root"},
	{path: "/etc/ld.so.preload", rw: High, what: "a library every host program loads"},
	{path: "/etc/ssh", rw: High, ro: Medium, belowRW: High, belowRO: Medium, what: "the host's SSH keys and sshd configuration"},
	{path: "/etc/docker", rw: High, ro: Medium, belowRW: High, belowRO: Medium, what: "the Docker daemon's configuration and TLS keys"},
	{path: "/etc/kubernetes", rw: High, ro: High, belowRW: High, belowRO: High, what: "the cluster's admin credentials and PKI"},
	{path: "/root", rw: High, ro: High, what: "root's home: keys, credentials, shell startup files"},
	{path: "/root/.ssh", rw: High, ro: High, belowRW: High, belowRO: High, what: "root's SSH keys and authorized_keys"},
	{path: "/home", rw: Medium, ro: Medium, what: "every user's home: keys, credentials, shell startup files"},
	{path: "/proc", rw: High, ro: High, belowRW: High, belowRO: Medium, what: "the host's processes, their environment and memory, and kernel settings"},
	{path: "/sys", rw: High, ro: High, belowRW: Medium, belowRO: Medium, what: "the kernel's devices, cgroups and settings"},
	{path: "/sys/fs/cgroup", rw: High, ro: Medium, belowRW: High, belowRO: Medium, what: "the host's cgroups: a v1 release_agent runs as host root"},
	{path: "/dev", rw: High, ro: High, belowRW: Medium, belowRO: Medium, what: "the host's device nodes and shared memory"},
	{path: "/dev/log", what: "the syslog socket"},
	{path: "/boot", rw: High, ro: Medium, belowRW: High, what: "the host's kernel and boot loader"},
	{path: "/lib/modules", rw: High, ro: Medium, belowRW: High, what: "the host's kernel modules"},
	{path: "/usr/lib/modules", rw: High, ro: Medium, belowRW: High, what: "the host's kernel modules"},
	{path: "/usr", rw: High, ro: Low, what: "the host's programs and libraries"},
	{path: "/usr/bin", rw: High, ro: Low, belowRW: High, what: "programs the host runs as root"},
	{path: "/usr/sbin", rw: High, ro: Low, belowRW: High, what: "programs the host runs as root"},
	{path: "/usr/lib", rw: High, ro: Low, belowRW: High, what: "libraries the host loads as root"},
	{path: "/bin", rw: High, ro: Low, belowRW: High, what: "programs the host runs as root"},
	{path: "/sbin", rw: High, ro: Low, belowRW: High, what: "programs the host runs as root"},
	{path: "/lib", rw: High, ro: Low, belowRW: High, what: "libraries the host loads as root"},
	{path: "/lib64", rw: High, ro: Low, belowRW: High, what: "libraries the host loads as root"},
	{path: "/var/lib/docker", rw: High, ro: High, belowRW: High, belowRO: High, what: "every container's filesystem, volumes and configuration"},
	{path: "/var/lib/containerd", rw: High, ro: High, belowRW: High, belowRO: High, what: "containerd's images, snapshots and container state"},
	{path: "/var/lib/kubelet", rw: High, ro: High, belowRW: High, belowRO: High, what: "the pods' volumes, secrets and service-account tokens"},
	{path: "/run/systemd/private", rw: High, ro: High, what: "systemd's control socket: starting a unit is root"},
	{path: "/run/dbus/system_bus_socket", rw: High, ro: High, what: "the system D-Bus, where uid 0 may have systemd start anything"},
}

// hostPathSeverity ranks a bind mount of source and says what it exposes.
// A mount covering listed paths (the path itself or a directory above
// them) ranks as the worst of them; a mount inside a listed path, when it
// covers none, as the nearest one's below.
func hostPathSeverity(source string, readOnly bool) (Severity, string) {
	src := hostPathKey(source)
	var sev Severity
	var what string
	covered := false
	for _, hp := range hostPaths {
		if !covers(src, hp.path) {
			continue
		}
		covered = true
		s := hp.rw
		if readOnly {
			s = hp.ro
		}
		if s > sev {
			sev, what = s, hp.what
			if hp.path != src {
				what = "holds " + hp.path + ": " + what
			}
		}
	}
	if covered {
		return sev, what
	}
	var nearest *hostPath
	for i, hp := range hostPaths {
		if inside(src, hp.path) && (nearest == nil || len(hp.path) > len(nearest.path)) {
			nearest = &hostPaths[i]
		}
	}
	if nearest == nil {
		return None, ""
	}
	if readOnly {
		sev = nearest.belowRO
	} else {
		sev = nearest.belowRW
	}
	return sev, "inside " + nearest.path + ": " + nearest.what
}

// hostPathKey is a host source as the rules compare it: cleaned, with
// /var/run read as /run.
func hostPathKey(source string) string {
	p := filepath.Clean(source)
	if p == "/var/run" || strings.HasPrefix(p, "/var/run/") {
		p = "/run" + strings.TrimPrefix(p, "/var/run")
	}
	return p
}

// covers tells whether a mount of dir contains target: dir is target or a
// directory above it. Components of target may be path.Match patterns
// (/run/user/*/docker.sock).
func covers(dir, target string) bool {
	d, t := pathParts(dir), pathParts(target)
	if len(d) > len(t) {
		return false
	}
	for i := range d {
		if ok, _ := path.Match(t[i], d[i]); !ok {
			return false
		}
	}
	return true
}

// inside tells whether p lies strictly below dir.
func inside(p, dir string) bool {
	return p != dir && covers(dir, p)
}

func pathParts(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// mountText writes a volume the way a reader finds it in the file: source →
// target, read-only or read-write.
func mountText(v types.ServiceVolumeConfig) string {
	access := "read-write"
	if v.ReadOnly {
		access = "read-only"
	}
	return fmt.Sprintf("%s → %s (%s)", v.Source, v.Target, access)
}

// itemWithTarget matches the volumes or devices item mounted at target.
// Compose merges both lists by target, so the target names the item in
// every file; the source would not, since compose resolves a relative one
// against the project or the extended file's directory.
func itemWithTarget(field, target string) func(Item) bool {
	target = path.Clean(target)
	return func(it Item) bool {
		t, ok := itemTarget(field, it)
		return ok && t != "" && path.Clean(t) == target
	}
}

// itemTarget returns the target of a volumes or devices item. A short
// syntax scalar goes through compose-go's own canonical transform, so it
// is read exactly as the loader read it.
func itemTarget(field string, it Item) (string, bool) {
	s, ok := it.Scalar()
	if !ok {
		return it.Field("target")
	}
	const svc = "capprof"
	doc, err := transform.Canonical(map[string]any{
		"services": map[string]any{svc: map[string]any{field: []any{s}}},
	}, false)
	if err != nil {
		return "", false
	}
	services, _ := doc["services"].(map[string]any)
	service, _ := services[svc].(map[string]any)
	items, _ := service[field].([]any)
	if len(items) != 1 {
		return "", false
	}
	item, _ := items[0].(map[string]any)
	t, ok := item["target"].(string)
	return t, ok
}
