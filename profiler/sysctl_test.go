package profiler

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/capprof/capprof/internal/testutil"
	"github.com/capprof/capprof/profiles"
)

func TestKeepSysctl(t *testing.T) {
	for key, want := range map[string]bool{
		"net.ipv4.ip_forward":                       true,
		"net.ipv4.conf.all.forwarding":              false, // alias of ip_forward
		"net.ipv4.conf.default.rp_filter":           true,
		"net.ipv4.conf.eth0.rp_filter":              false,
		"net.ipv6.conf.lo.disable_ipv6":             false,
		"net.ipv6.conf.all.disable_ipv6":            true,
		"net.ipv4.neigh.eth0.gc_stale_time":         false,
		"net.ipv6.neigh.default.gc_thresh1":         true,
		"net.ipv4.neigh.all.x":                      true,
		"net.netfilter.nf_conntrack_count":          false,
		"net.core.somaxconn":                        true,
		"net.ipv4.conf.all":                         true,
		"net.ipv4.route.gc_timeout":                 true,
		"net.mpls.conf.eth0.input":                  true, // not an ipv4/ipv6 conf key
		"net.ipv4.tcp_rmem":                         true,
		"net.ipv4.neigh.default.unres_qlen_bytes":   true,
		"net.ipv6.conf.docker0.accept_ra":           false,
		"net.ipv4.conf.default.accept_source_route": true,
		"net.ipv4.conf.all.accept_source_route":     true,
		"net.ipv4.conf.tun0.forwarding":             false,
		"net.ipv6.neigh.lo.anycast_delay":           false,
	} {
		if got := keepSysctl(key); got != want {
			t.Errorf("keepSysctl(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestIPCSysctl(t *testing.T) {
	for key, want := range map[string]bool{
		"kernel.shmmax": true, "kernel.shm_rmid_forced": true, "kernel.msgmnb": true,
		"kernel.sem": true, "fs.mqueue.msg_max": true, "kernel.hostname": false,
		"kernel.semx": false, "fs.file-max": false,
	} {
		if got := ipcSysctl(key); got != want {
			t.Errorf("ipcSysctl(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestDiffSysctls(t *testing.T) {
	fresh := map[string]string{
		"net.ipv4.ip_forward":                 "0",
		"net.ipv4.ip_unprivileged_port_start": "1024",
		"net.ipv4.ping_group_range":           "1\t0",
		"net.core.somaxconn":                  "4096",
		"kernel.shmmax":                       "18446744073692774399",
		"net.ipv4.tcp_rmem":                   "4096\t131072\t6291456",
	}
	got := map[string]string{
		"net.ipv4.ip_forward":                 "1",                    // the service's change
		"net.ipv4.ip_unprivileged_port_start": "0",                    // Docker's
		"net.ipv4.ping_group_range":           "0\t2147483647",        // Docker's, other blanks
		"net.core.somaxconn":                  "1024",                 // declared in compose
		"kernel.shmmax":                       "68719476736",          // the service's change
		"net.ipv4.tcp_rmem":                   "4096 131072  6291456", // same value
		"net.ipv4.conf.eth0.forwarding":       "1",                    // per interface
		"net.new.module_key":                  "7",                    // not in the fresh namespace
	}
	declared := map[string]string{"net.core.somaxconn": "1024"}
	want := []profiles.SysctlChange{
		{Key: "kernel.shmmax", Value: "68719476736", Baseline: "18446744073692774399"},
		{Key: "net.ipv4.ip_forward", Value: "1", Baseline: "0"},
	}
	if d := diffSysctls(got, fresh, dockerDefaultSysctls, declared); !slices.Equal(d, want) {
		t.Errorf("diffSysctls = %+v, want %+v", d, want)
	}
	// A declared value the service changed again is a change.
	got["net.core.somaxconn"] = "2048"
	d := diffSysctls(got, fresh, dockerDefaultSysctls, declared)
	if len(d) != 3 || d[1] != (profiles.SysctlChange{Key: "net.core.somaxconn", Value: "2048", Baseline: "1024"}) {
		t.Errorf("diffSysctls = %+v, want somaxconn 2048 over declared 1024", d)
	}
}

// The namespace reading: a process in its own network namespace that turned
// on forwarding is seen with it, a fresh namespace is not, and the calling
// thread's namespaces are left as they were.
func TestNamespaceSysctlReading(t *testing.T) {
	testutil.RequireRoot(t)
	hostNet, err := os.Readlink("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "--net", "--ipc", "sh", "-c",
		"echo 1000 > /proc/sys/net/core/somaxconn && echo 4096 > /proc/sys/kernel/msgmax && echo ready && exec sleep 30")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("unshare: %v", err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	buf := make([]byte, 6)
	if _, err := stdout.Read(buf); err != nil || !strings.HasPrefix(string(buf), "ready") {
		t.Fatalf("child did not get ready: %q %v", buf, err)
	}
	got, err := containerSysctls(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if got["net.core.somaxconn"] != "1000" || got["kernel.msgmax"] != "4096" {
		t.Errorf("child's somaxconn %q msgmax %q, want 1000 and 4096", got["net.core.somaxconn"], got["kernel.msgmax"])
	}
	fresh, err := freshSysctls(nil)
	if err != nil {
		t.Fatal(err)
	}
	if fresh["net.core.somaxconn"] == "" || fresh["net.core.somaxconn"] == "1000" || fresh["kernel.msgmax"] == "" || fresh["kernel.msgmax"] == "4096" {
		t.Errorf("fresh somaxconn %q msgmax %q, want the defaults", fresh["net.core.somaxconn"], fresh["kernel.msgmax"])
	}
	if _, ok := fresh["fs.mqueue.msg_max"]; !ok {
		t.Error("fresh namespace lacks fs.mqueue.msg_max")
	}
	for k := range fresh {
		if !strings.HasPrefix(k, "net.") && !ipcSysctl(k) {
			t.Errorf("read %s, which is neither net nor IPC", k)
		}
	}
	d := diffSysctls(got, fresh, nil, nil)
	var keys []string
	for _, c := range d {
		keys = append(keys, c.Key)
	}
	if !slices.Contains(keys, "net.core.somaxconn") || !slices.Contains(keys, "kernel.msgmax") {
		t.Errorf("diff = %+v, want somaxconn and msgmax", d)
	}
	if now, _ := os.Readlink("/proc/thread-self/ns/net"); now != hostNet {
		t.Errorf("test thread's net namespace %s, was %s", now, hostNet)
	}
}

// Docker sets some namespaced sysctls in every container; dockerDefaultSysctls
// must be exactly those, or a service would be credited with Docker's changes
// (or lose its own). Fails when the engine's set changes.
func TestDockerDefaultSysctls(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	image := "capprof-example/ipforward:latest"
	if err := exec.CommandContext(ctx, "docker", "image", "inspect", image).Run(); err != nil {
		testutil.Skip(t, "image "+image+" is not built (scripts/build-image.sh examples/ipforward)")
	}
	out, err := exec.CommandContext(ctx, "docker", "run", "-d", "--rm", "--entrypoint", "sleep", image, "60").Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	defer exec.Command("docker", "rm", "-f", id).Run()
	out, err = exec.CommandContext(ctx, "docker", "inspect", "-f", "{{.State.Pid}}", id).Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := containerSysctls(pid)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := freshSysctls(nil)
	if err != nil {
		t.Fatal(err)
	}
	measured := map[string]string{}
	for _, c := range diffSysctls(got, fresh, nil, nil) {
		measured[c.Key] = c.Value
	}
	if !maps.Equal(measured, dockerDefaultSysctls) {
		t.Errorf("docker run sets %v in every container, dockerDefaultSysctls says %v", measured, dockerDefaultSysctls)
	}
	if d := diffSysctls(got, fresh, dockerDefaultSysctls, nil); len(d) != 0 {
		t.Errorf("a plain container shows changes %+v", d)
	}
}

func TestTraceSysctls(t *testing.T) {
	if got := traceSysctls(nil, false); len(got) != 0 {
		t.Errorf("traceSysctls for a shared network namespace = %v, want none (Docker refuses net sysctls there)", got)
	}
	if got := traceSysctls(nil, true); !maps.Equal(got, map[string]string{"net.ipv4.ip_forward": "0"}) {
		t.Errorf("traceSysctls(nil) = %v", got)
	}
	if got := traceSysctls(map[string]string{"net.ipv4.ip_forward": "1"}, true); len(got) != 0 {
		t.Errorf("a declared key is reset anyway: %v", got)
	}
	y, err := traceOverride([]string{"dep", "svc"}, TracePrivilege{}, "svc", map[string]string{"net.ipv4.ip_forward": "0"})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(y), "sysctls:"); n != 1 || !strings.Contains(string(y), "net.ipv4.ip_forward: \"0\"") {
		t.Errorf("trace override sets sysctls %d times, want once for svc:\n%s", n, y)
	}
	// A traced service that is not privileged (nothing to emulate, or a
	// host that starts privileged containers) still starts from them.
	y, err = traceOverride(nil, TracePrivilege{}, "svc", map[string]string{"net.ipv4.ip_forward": "0"})
	if err != nil {
		t.Fatal(err)
	}
	project := loadOverrideOver(t, "services:\n  svc:\n    image: busybox\n    cap_add: [NET_ADMIN]\n", y)
	svc := project.Services["svc"]
	if svc.Sysctls["net.ipv4.ip_forward"] != "0" || svc.Privileged || !slices.Equal(svc.CapAdd, []string{"NET_ADMIN"}) {
		t.Errorf("merged traced service = sysctls %v, privileged %v, cap_add %v; want ip_forward 0 and the rest as written\n%s", svc.Sysctls, svc.Privileged, svc.CapAdd, y)
	}
}

func TestSysctlScopes(t *testing.T) {
	tests := []struct {
		network, ipc   string
		ownNet, ownIPC bool
	}{
		{"", "", true, true},
		{"bridge", "shareable", true, true},
		{"none", "private", true, true},
		{"host", "", false, true},
		{"container:abc", "host", false, false},
		{"service:db", "service:db", false, false},
	}
	changes := []profiles.SysctlChange{{Key: "net.ipv4.ip_forward", Value: "1"}, {Key: "kernel.shmmax", Value: "1"}}
	for _, tt := range tests {
		ownNet, ownIPC := sysctlScopes(tt.network, tt.ipc)
		if ownNet != tt.ownNet || ownIPC != tt.ownIPC {
			t.Errorf("sysctlScopes(%q, %q) = %v, %v; want %v, %v", tt.network, tt.ipc, ownNet, ownIPC, tt.ownNet, tt.ownIPC)
		}
		kept := inScope(changes, ownNet, ownIPC)
		want := 0
		if tt.ownNet {
			want++
		}
		if tt.ownIPC {
			want++
		}
		if len(kept) != want {
			t.Errorf("inScope for %q/%q kept %v", tt.network, tt.ipc, kept)
		}
	}
}

// The trace run sets ip_forward=0 in the service's namespace (the host's 1
// is inherited otherwise); that write also sets conf.default.forwarding and
// flips conf.all.accept_redirects. A service that touches none of them must
// show no change: the baseline has to make the same writes.
func TestRuntimeWritesSideEffectsAreNotChanges(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); err != nil || strings.TrimSpace(string(b)) != "1" {
		testutil.Skip(t, "the host does not forward IPv4 (dockerd normally turns it on): the side effects cannot show")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	image := "capprof-example/ipforward:latest"
	if err := exec.CommandContext(ctx, "docker", "image", "inspect", image).Run(); err != nil {
		testutil.Skip(t, "image "+image+" is not built (scripts/build-image.sh examples/ipforward)")
	}
	declared := traceSysctls(nil, true)
	args := []string{"run", "-d", "--rm", "--entrypoint", "sleep"}
	for k, v := range declared {
		args = append(args, "--sysctl", k+"="+v)
	}
	out, err := exec.CommandContext(ctx, "docker", append(args, image, "60")...).Output()
	if err != nil {
		t.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	defer exec.Command("docker", "rm", "-f", id).Run()
	out, err = exec.CommandContext(ctx, "docker", "inspect", "-f", "{{.State.Pid}}", id).Output()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	changes, err := serviceSysctls(pid, declared)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 0 {
		t.Errorf("a container that changed nothing shows %+v", changes)
	}
}

// toyKernel models ip_forward's side effects: writing "fwd" also sets
// "dflt" and sets "redir" to its opposite.
func toyKernel(got map[string]string) func([]profiles.SysctlChange) ([]profiles.SysctlChange, error) {
	return func(writes []profiles.SysctlChange) ([]profiles.SysctlChange, error) {
		state := map[string]string{"fwd": "0", "dflt": "0", "redir": "1", "other": "3"}
		for _, c := range writes {
			state[c.Key] = c.Value
			if c.Key == "fwd" {
				state["dflt"] = c.Value
				state["redir"] = map[string]string{"1": "0", "0": "1"}[c.Value]
			}
		}
		var left []profiles.SysctlChange
		for _, k := range []string{"dflt", "fwd", "other", "redir"} {
			if state[k] != got[k] {
				left = append(left, profiles.SysctlChange{Key: k, Value: got[k], Baseline: state[k]})
			}
		}
		return left, nil
	}
}

func TestSettleSysctls(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  map[string]string
		want []string
		note bool
	}{
		// fwd=1 brings dflt=1 and redir=0 along: only fwd is set.
		{"side effects dropped", map[string]string{"fwd": "1", "dflt": "1", "redir": "0", "other": "7"}, []string{"fwd", "other"}, false},
		// The service wrote fwd=1, then redir=1 itself: redir equals the
		// fresh value, but the runtime's fwd write would flip it, so it is
		// set too, and the order of the two writes matters.
		{"a key the runtime's write changes back", map[string]string{"fwd": "1", "dflt": "1", "redir": "1", "other": "3"}, []string{"fwd", "redir"}, true},
		{"nothing changed", map[string]string{"fwd": "0", "dflt": "0", "redir": "1", "other": "3"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apply := toyKernel(tc.got)
			found, _ := apply(nil)
			kept, err := settleSysctls(found, apply)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			noted := false
			for _, c := range kept {
				keys = append(keys, c.Key)
				if c.Value != tc.got[c.Key] {
					t.Errorf("%s = %q, want the service's %q", c.Key, c.Value, tc.got[c.Key])
				}
				noted = noted || c.Note != ""
			}
			if !slices.Equal(keys, tc.want) {
				t.Errorf("kept %v, want %v", keys, tc.want)
			}
			if noted != tc.note {
				t.Errorf("order note %v, want %v (%+v)", noted, tc.note, kept)
			}
			if left, _ := apply(kept); len(left) != 0 && !tc.note {
				t.Errorf("writing %+v leaves %+v different", kept, left)
			}
		})
	}
}

// loadOverrideOver loads base then override as compose would.
func loadOverrideOver(t *testing.T, base string, override []byte) *types.Project {
	t.Helper()
	dir := t.TempDir()
	b := writeCompose(t, dir, "compose.yml", base)
	o := writeCompose(t, dir, "trace.yml", string(override))
	project, err := LoadProject(context.Background(), []string{b, o})
	if err != nil {
		t.Fatalf("compose-go rejects the override: %v\n%s", err, override)
	}
	return project
}
