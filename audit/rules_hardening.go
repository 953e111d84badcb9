package audit

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// hardeningRules: hardening: read-only root, user, resource limits, published ports.
//
// Most of them fire on a missing setting, so they are FiresOnAbsence and
// located at the service; where the setting is present but ineffective
// (read_only: false, pids_limit: -1) the hit is located at its key. Their
// Fields name "deploy" as a whole because unset variables are tracked per
// top-level key: an unset variable anywhere under deploy makes the resource
// rules indeterminate on that service.
var hardeningRules = []Rule{
	{
		ID:             "read-only-rootfs-missing",
		Severity:       Low,
		Title:          "writable root filesystem",
		Why:            "a writable root filesystem lets an intruder replace the service's binaries and libraries, drop tools and persist until the container is recreated",
		Fix:            "set read_only: true and give the paths the service writes a tmpfs or a volume (tmpfs: [/tmp])",
		Fields:         []string{"read_only"},
		FiresOnAbsence: true,
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			if svc.ReadOnly {
				return nil
			}
			return []Hit{{Key: "read_only", Index: -1, Message: "read_only is not true: the root filesystem is writable"}}
		},
	},
	{
		// Low, not Medium: running as root is Docker's default posture
		// rather than a setting that weakens isolation below it, and what
		// root in the container can do beyond another user is bounded by
		// its capabilities, mounts and namespaces, which their own rules
		// rate. Most images default to root, so an unset user is reported
		// too, but at Medium it would fail --fail-on medium on nearly every
		// project and drown the findings that widen the container's reach.
		ID:             "runs-as-root",
		Severity:       Low,
		Title:          "runs as root",
		Why:            "root in the container is uid 0 on the host unless userns-remap is on: it keeps DAC_OVERRIDE over every mounted file, and any escape lands as host root",
		Fix:            `set user to a non-root uid:gid the image's files allow (user: "1000:1000"), or USER in the Dockerfile`,
		Fields:         []string{"user"},
		FiresOnAbsence: true,
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			if svc.User == "" {
				return []Hit{{Key: "user", Index: -1, Message: "user is not set: the service runs as the image's default user, which is root unless the image sets USER"}}
			}
			if !rootUser(svc.User) {
				return nil
			}
			return []Hit{{Key: "user", Index: -1, Message: fmt.Sprintf("user: %q runs as root", svc.User)}}
		},
	},
	{
		// Docker and compose treat a pids limit of 0 or below as none:
		// compose passes pids_limit on when it is not 0 and
		// deploy.resources.limits.pids when it is above 0, and the engine
		// turns a limit <= 0 into "unlimited". A daemon-wide
		// default-pids-limit is outside the compose files and not assumed.
		ID:             "pids-limit-missing",
		Severity:       Low,
		Title:          "no pids limit",
		Why:            "without a pids limit a fork bomb or runaway process in the container exhausts the host's process table and stalls every other service",
		Fix:            "set pids_limit (e.g. pids_limit: 256) or deploy.resources.limits.pids",
		Fields:         []string{"pids_limit", "deploy.resources.limits.pids"},
		FiresOnAbsence: true,
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			limits := deployLimits(svc)
			switch {
			case svc.PidsLimit > 0 || limits.Pids > 0:
				return nil
			case svc.PidsLimit < 0:
				return []Hit{{Key: "pids_limit", Index: -1, Message: fmt.Sprintf("pids_limit: %d: no limit", svc.PidsLimit)}}
			case limits.Pids < 0:
				return []Hit{{Key: "deploy.resources.limits.pids", Index: -1, Message: fmt.Sprintf("deploy.resources.limits.pids: %d: no limit", limits.Pids)}}
			}
			return []Hit{{Key: "pids_limit", Index: -1, Message: "no pids limit: neither pids_limit nor deploy.resources.limits.pids is above 0 (unset, 0 and -1 all mean unlimited)"}}
		},
	},
	{
		ID:             "memory-limit-missing",
		Severity:       Low,
		Title:          "no memory limit",
		Why:            "without a memory limit the container can take all the host's memory, and the kernel's OOM killer then kills other services or host processes",
		Fix:            "set mem_limit or deploy.resources.limits.memory (e.g. memory: 512M)",
		Fields:         []string{"mem_limit", "deploy.resources.limits.memory"},
		FiresOnAbsence: true,
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			// The engine treats a memory limit of 0 as none; a negative
			// one is no limit either.
			if svc.MemLimit > 0 || deployLimits(svc).MemoryBytes > 0 {
				return nil
			}
			return []Hit{{Key: "mem_limit", Index: -1, Message: "no memory limit: neither mem_limit nor deploy.resources.limits.memory is set"}}
		},
	},
	{
		// What limits CPU: cpus and deploy.resources.limits.cpus (the
		// engine's NanoCPUs) and cpu_quota (a CFS quota, over cpu_period
		// or the kernel's 100ms default). Not counted: cpu_shares, a weight
		// that only matters under contention; cpu_count and cpu_percent,
		// which the engine applies on Windows only; cpuset, which pins the
		// container to CPUs but lets it saturate them, host work on them
		// included.
		ID:             "cpu-limit-missing",
		Severity:       Low,
		Title:          "no CPU limit",
		Why:            "without a CPU limit a busy or compromised container can take every host CPU and starve the other services; cpu_shares only weighs contention",
		Fix:            "set cpus (e.g. cpus: 1.5) or deploy.resources.limits.cpus",
		Fields:         []string{"cpus", "cpu_quota", "cpu_period", "deploy.resources.limits.cpus"},
		FiresOnAbsence: true,
		Check: func(svc *types.ServiceConfig, _ *types.Project) []Hit {
			if svc.CPUS > 0 || svc.CPUQuota > 0 || deployLimits(svc).NanoCPUs > 0 {
				return nil
			}
			return []Hit{{Key: "cpus", Index: -1, Message: "no CPU limit: none of cpus, cpu_quota or deploy.resources.limits.cpus is set"}}
		},
	},
	{
		ID:       "ports-all-interfaces",
		Severity: Low,
		Title:    "port published on every interface",
		Why:      "a port published without a host address is reachable from every network the host is on, and Docker's own iptables rules let it past the host's firewall (ufw, firewalld)",
		Fix:      `bind it to the address that needs it ("127.0.0.1:8080:80", or host_ip: 127.0.0.1), or drop it and reach the service over a compose network`,
		Fields:   []string{"ports"},
		Check:    checkPorts,
	},
}

// rootUser reports whether a compose user (user, uid, user:group,
// uid:gid) runs as root: the name root, uid 0 however written, or an empty
// user part (":1000"), which the runtime fills in with uid 0.
func rootUser(user string) bool {
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == "root" {
		return true
	}
	uid, err := strconv.ParseUint(name, 10, 32)
	return err == nil && uid == 0
}

// deployLimits returns the service's deploy.resources.limits, zero when
// there are none.
func deployLimits(svc *types.ServiceConfig) types.Resource {
	if svc.Deploy == nil || svc.Deploy.Resources.Limits == nil {
		return types.Resource{}
	}
	return *svc.Deploy.Resources.Limits
}

// sensitivePorts are container ports (the target, which is what the
// service listens on whatever the host port) whose services are commonly
// run without authentication, or whose authentication is all that stands
// between the network and the data: published on every interface they
// are worth more than a hardening gap. The Docker Engine API without TLS
// is control of the engine, rated High like an engine socket. Every one of
// them is a TCP service: the same number over UDP or SCTP is not it.
var sensitivePorts = map[uint32]struct {
	name     string
	severity Severity
}{
	22:    {"SSH", Medium},
	1433:  {"SQL Server", Medium},
	2375:  {"the Docker Engine API without TLS", High},
	2376:  {"the Docker Engine API", Medium},
	2379:  {"etcd", Medium},
	3306:  {"MySQL", Medium},
	5432:  {"PostgreSQL", Medium},
	5984:  {"CouchDB", Medium},
	6379:  {"Redis", Medium},
	9042:  {"Cassandra", Medium},
	9200:  {"Elasticsearch", Medium},
	11211: {"memcached", Medium},
	15672: {"the RabbitMQ management UI", Medium},
	27017: {"MongoDB", Medium},
}

// checkPorts reports each published port that binds every host interface.
// Compose parses one short-syntax item with a range ("8000-8002:80-82")
// into a port per number; consecutive ports forming one range are
// reported once, at the item of the first. Separate items that happen to
// form a range ("80", then "81") cannot be told from one in the merged
// list and are reported together too, at the first item.
func checkPorts(svc *types.ServiceConfig, _ *types.Project) []Hit {
	// The engine discards published ports in the host's network
	// namespace: the service listens on the host's interfaces directly,
	// which host-network reports.
	if svc.NetworkMode == "host" {
		return nil
	}
	var hits []Hit
	for i := 0; i < len(svc.Ports); {
		p := svc.Ports[i]
		n := rangeLength(svc.Ports[i:])
		if !allInterfaces(p.HostIP) {
			i += n
			continue
		}
		h := Hit{Key: "ports", Item: portItem(p), Index: i}
		spec := portSpec(svc.Ports[i : i+n])
		h.Subject = spec
		h.Message = "ports: " + spec + " is published on every host interface"
		if p.Published == "" {
			h.Message = "ports: " + spec + " is published on a random host port on every host interface"
		}
		for _, q := range svc.Ports[i : i+n] {
			if s, ok := sensitivePorts[q.Target]; ok && s.severity > h.Severity && (q.Protocol == "" || strings.EqualFold(q.Protocol, "tcp")) {
				h.Severity = s.severity
				h.Message += " (" + s.name + ")"
			}
		}
		hits = append(hits, h)
		i += n
	}
	return hits
}

// allInterfaces reports whether a port's host address is every interface:
// none given, or an unspecified address (0.0.0.0, ::).
func allInterfaces(hostIP string) bool {
	if hostIP == "" {
		return true
	}
	addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(hostIP, "["), "]"))
	return err == nil && addr.IsUnspecified()
}

// rangeLength returns how many ports at the start of ports form one
// range: same host address and protocol, published ports all random or
// all at the same offset from their targets, and targets that together
// are consecutive numbers. Compose orders a range's ports by their text,
// not their number (100 before 98), so the targets are taken as a set.
func rangeLength(ports []types.ServicePortConfig) int {
	first := ports[0]
	offset, numbered := publishedOffset(first)
	lo, hi := first.Target, first.Target
	seen := map[uint32]bool{first.Target: true}
	n := 1
	for k, p := range ports[1:] {
		if p.HostIP != first.HostIP || !strings.EqualFold(p.Protocol, first.Protocol) || seen[p.Target] {
			break
		}
		if (p.Published == "") != (first.Published == "") {
			break
		}
		if first.Published != "" {
			o, ok := publishedOffset(p)
			if !ok || !numbered || o != offset {
				break
			}
		}
		seen[p.Target] = true
		lo, hi = min(lo, p.Target), max(hi, p.Target)
		if int(hi-lo) == k+1 {
			n = k + 2
		}
	}
	return n
}

// publishedOffset is the published port minus the target, for telling
// whether two ports belong to one range; ok is false when the published
// port is not a single number.
func publishedOffset(p types.ServicePortConfig) (offset int64, ok bool) {
	pub, err := strconv.ParseUint(p.Published, 10, 16)
	if err != nil {
		return 0, false
	}
	return int64(pub) - int64(p.Target), true
}

// portSpec writes ports the way the short syntax would, as a range when
// there are several: [HOST_IP:][PUBLISHED:]TARGET/PROTOCOL.
func portSpec(ports []types.ServicePortConfig) string {
	first := ports[0]
	lo, hi := first, first
	for _, p := range ports[1:] {
		if p.Target < lo.Target {
			lo = p
		}
		if p.Target > hi.Target {
			hi = p
		}
	}
	target := strconv.FormatUint(uint64(lo.Target), 10)
	published := lo.Published
	if hi.Target != lo.Target {
		target += "-" + strconv.FormatUint(uint64(hi.Target), 10)
		if published != "" {
			published += "-" + hi.Published
		}
	}
	var b strings.Builder
	if first.HostIP != "" {
		if strings.Contains(first.HostIP, ":") && !strings.HasPrefix(first.HostIP, "[") {
			b.WriteString("[" + first.HostIP + "]:")
		} else {
			b.WriteString(first.HostIP + ":")
		}
	}
	switch {
	case published != "":
		b.WriteString(published + ":")
	case first.HostIP != "":
		// compose's own spelling of a random host port on an address
		// (0.0.0.0::80), which does not read as host port 80.
		b.WriteString(":")
	}
	b.WriteString(target)
	if first.Protocol != "" {
		b.WriteString("/" + first.Protocol)
	}
	return b.String()
}

// portItem matches the ports item that compose parsed into p: a short
// syntax string parsed the way compose parses it, or a long syntax
// mapping compared field by field.
func portItem(p types.ServicePortConfig) func(Item) bool {
	return func(it Item) bool {
		if s, ok := it.Scalar(); ok {
			parsed, err := types.ParsePortConfig(s)
			if err != nil {
				return false
			}
			for _, q := range parsed {
				if samePort(p, q) {
					return true
				}
			}
			return false
		}
		target, _ := it.Field("target")
		published, _ := it.Field("published")
		hostIP, _ := it.Field("host_ip")
		protocol, ok := it.Field("protocol")
		if !ok {
			protocol = "tcp"
		}
		t, err := strconv.ParseUint(target, 10, 32)
		return err == nil && samePort(p, types.ServicePortConfig{
			Target: uint32(t), Published: published, HostIP: hostIP, Protocol: protocol,
		})
	}
}

func samePort(a, b types.ServicePortConfig) bool {
	return a.Target == b.Target && a.Published == b.Published && a.HostIP == b.HostIP &&
		strings.EqualFold(a.Protocol, b.Protocol)
}
