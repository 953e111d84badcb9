package audit

import "github.com/compose-spec/compose-go/v2/types"

// namespaceRules: the host's namespaces shared with the container.
//
// Each rule fires on the value "host" only, compared exactly as the Docker
// engine does (NetworkMode.IsHost, PidMode.IsHost …). "service:NAME" and
// "container:NAME" share another container's namespace, not the host's:
// they widen the blast radius between containers but keep the host out.
var namespaceRules = []Rule{
	hostNamespaceRule(
		"host-network", High, "network_mode", "host network namespace",
		"the container shares the host's network stack: it reaches services bound to the host's loopback, abstract Unix sockets (CVE-2020-15257) and every host port, and with NET_RAW or NET_ADMIN sniffs and reconfigures the host's traffic",
		"remove network_mode: host and publish the ports the service needs (bound to 127.0.0.1 where only the host connects)",
		func(svc *types.ServiceConfig) string { return svc.NetworkMode }),
	hostNamespaceRule(
		"host-pid", High, "pid", "host PID namespace",
		"the container sees and can signal every host process, reads their /proc/PID/environ and cmdline for secrets and, with SYS_PTRACE, enters them and the host's filesystem through /proc/PID/root",
		"remove pid: host; to watch another container's processes, share its namespace with pid: service:NAME",
		func(svc *types.ServiceConfig) string { return svc.Pid }),
	hostNamespaceRule(
		"host-ipc", Medium, "ipc", "host IPC namespace",
		"the container shares the host's System V shared memory, semaphores and POSIX message queues: it can read and corrupt the memory other host processes share (databases, X11, browsers)",
		"remove ipc: host; to share memory with one container, use ipc: shareable on it and ipc: service:NAME on the other",
		func(svc *types.ServiceConfig) string { return svc.Ipc }),
	hostNamespaceRule(
		"host-uts", Low, "uts", "host UTS namespace",
		"the container shares the host's hostname and NIS domain: with SYS_ADMIN it renames the host under every other service, and it learns the host's name without it",
		"remove uts: host; set the container's own hostname with hostname: if the service needs one",
		func(svc *types.ServiceConfig) string { return svc.Uts }),
	hostNamespaceRule(
		"host-userns", Medium, "userns_mode", "host user namespace",
		"the service opts out of the daemon's userns-remap: root in the container is uid 0 on the host again, so every escape and every writable mount acts as host root",
		"remove userns_mode: host; give the files the service must reach to its remapped uid (chown to the subordinate range) instead",
		func(svc *types.ServiceConfig) string { return svc.UserNSMode }),
	hostNamespaceRule(
		"host-cgroup", Medium, "cgroup", "host cgroup namespace",
		"the container sees the host's whole cgroup tree (every service's and container's cgroups and processes) and, where cgroupfs is writable, moves processes between and changes the limits of any of them",
		"remove cgroup: host (cgroup: private is the default on cgroup v2)",
		func(svc *types.ServiceConfig) string { return svc.Cgroup }),
}

// hostNamespaceRule is a rule that fires when the service key holds
// "host". The key is also the rule's only field: an unset variable there
// may hold "host".
func hostNamespaceRule(id string, sev Severity, key, title, why, fix string, mode func(*types.ServiceConfig) string) Rule {
	return Rule{
		ID:       id,
		Severity: sev,
		Title:    title,
		Why:      why,
		Fix:      fix,
		Fields:   []string{key},
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			if mode(svc) != "host" {
				return nil
			}
			return []Hit{{Key: key, Index: -1, Message: key + ": host"}}
		},
	}
}
