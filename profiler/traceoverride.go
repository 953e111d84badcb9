package profiler

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"sort"

	"gopkg.in/yaml.v3"
)

// traceSecurityOpts switch off every confinement privileged mode switches off.
var traceSecurityOpts = []string{
	"apparmor=unconfined",
	"label=disable",
	"seccomp=unconfined",
	"systempaths=unconfined",
}

// traceOverride writes the compose override of a trace run: each named
// service (the traced one and any privileged service it depends on) loses
// `privileged: true` and gets everything this host can give instead. The
// `!override` and `!reset` tags replace what the user's files set rather than
// merging into it. The service named traced also gets sysctls (merged key
// by key into its own): host-inherited keys reset to the kernel's default,
// so that the service's own change of them shows (see traceSysctls).
func traceOverride(services []string, tp TracePrivilege, traced string, sysctls map[string]string) ([]byte, error) {
	sorted := append([]string(nil), services...)
	sort.Strings(sorted)
	devices := make([]string, 0, len(tp.Devices))
	for _, d := range tp.Devices {
		devices = append(devices, fmt.Sprintf("%s:%s:rwm", d.Path, d.Path))
	}
	svcs := mapping()
	if !slices.Contains(sorted, traced) && len(sysctls) > 0 {
		// Not privileged in the compose file: only the sysctls.
		svc := mapping()
		appendPair(svc, "sysctls", sysctlMapping(sysctls))
		appendPair(svcs, traced, svc)
	}
	for _, name := range sorted {
		svc := mapping()
		appendPair(svc, "privileged", scalar("false", "!!bool"))
		appendPair(svc, "cap_add", sequence("!override", tp.Capabilities))
		appendPair(svc, "cap_drop", sequence("!reset", nil))
		appendPair(svc, "security_opt", sequence("!override", traceSecurityOpts))
		appendPair(svc, "devices", sequence("!override", devices))
		appendPair(svc, "device_cgroup_rules", sequence("!override", []string{"a *:* rwm"}))
		if name == traced && len(sysctls) > 0 {
			appendPair(svc, "sysctls", sysctlMapping(sysctls))
		}
		appendPair(svcs, name, svc)
	}
	root := mapping()
	root.HeadComment = "Trace run written by capprof: privileged mode emulated with what this host can give."
	if len(sorted) == 0 {
		root.HeadComment = "Trace run written by capprof: the sysctls the traced service starts from."
	}
	appendPair(root, "services", svcs)
	return encodeOverride(root, "trace override")
}

// sysctlMapping renders sysctls as a mapping sorted by key.
func sysctlMapping(sysctls map[string]string) *yaml.Node {
	m := mapping()
	for _, k := range slices.Sorted(maps.Keys(sysctls)) {
		appendPair(m, k, scalar(sysctls[k], "!!str"))
	}
	return m
}

// encodeOverride renders a compose file's root mapping with two-space indents.
func encodeOverride(root *yaml.Node, what string) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("write %s: %w", what, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", what, err)
	}
	return buf.Bytes(), nil
}

func mapping() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func scalar(value, tag string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: value, Tag: tag}
}

func sequence(tag string, values []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: tag}
	if len(values) == 0 {
		n.Style = yaml.FlowStyle
	}
	for _, v := range values {
		n.Content = append(n.Content, scalar(v, "!!str"))
	}
	return n
}

func appendPair(m *yaml.Node, key string, value *yaml.Node) {
	m.Content = append(m.Content, scalar(key, "!!str"), value)
}

// isolationOverride removes the fixed container names of the named services:
// a trace run or replay is its own compose project beside the user's, and a
// container_name would collide with the user's running container (and with
// the runs' own, one after the other). Compose names the containers instead.
func isolationOverride(services []string) ([]byte, error) {
	sorted := append([]string(nil), services...)
	sort.Strings(sorted)
	svcs := mapping()
	for _, name := range sorted {
		svc := mapping()
		appendPair(svc, "container_name", scalar("", "!reset"))
		appendPair(svcs, name, svc)
	}
	root := mapping()
	root.HeadComment = "Written by capprof: runs in their own project get compose-made container names."
	appendPair(root, "services", svcs)
	return encodeOverride(root, "isolation override")
}
