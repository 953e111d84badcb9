package profiler

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/sys/capability"
)

// The trace override must replace, not merge into, what the user's file sets:
// compose-go is the consumer that decides, so it is the judge here.
func TestTraceOverrideMergesOverUserFile(t *testing.T) {
	dir := t.TempDir()
	base := writeCompose(t, dir, "compose.yml", `
services:
  vpn:
    image: vpn-local
    privileged: true
    cap_add: [SYS_ADMIN]
    cap_drop: [NET_RAW]
    security_opt: ["no-new-privileges:true"]
    devices: ["/dev/fuse:/dev/fuse"]
`)
	tp := TracePrivilege{
		Capabilities: []string{"CHOWN", "NET_ADMIN", "SYS_ADMIN"},
		Devices:      []HostDevice{{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200}, {Path: "/dev/kvm", Type: "c", Major: 10, Minor: 232}},
	}
	y, err := traceOverride([]string{"vpn"}, tp, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	over := writeCompose(t, dir, "trace.yml", string(y))
	project, err := LoadProject(context.Background(), []string{base, filepath.Clean(over)})
	if err != nil {
		t.Fatalf("compose-go rejects the trace override: %v\n%s", err, y)
	}
	svc, _ := lookupService(project, "vpn")
	if svc.Privileged {
		t.Error("privileged still true")
	}
	caps := append([]string(nil), svc.CapAdd...)
	sort.Strings(caps)
	if !slices.Equal(caps, tp.Capabilities) {
		t.Errorf("cap_add = %v, want exactly %v", caps, tp.Capabilities)
	}
	if len(svc.CapDrop) != 0 {
		t.Errorf("cap_drop = %v, want reset", svc.CapDrop)
	}
	opts := append([]string(nil), svc.SecurityOpt...)
	sort.Strings(opts)
	if !slices.Equal(opts, traceSecurityOpts) {
		t.Errorf("security_opt = %v, want %v", opts, traceSecurityOpts)
	}
	if len(svc.Devices) != 2 {
		t.Errorf("devices = %+v, want the two host devices only", svc.Devices)
	}
	if !slices.Equal(svc.DeviceCgroupRules, []string{"a *:* rwm"}) {
		t.Errorf("device_cgroup_rules = %v", svc.DeviceCgroupRules)
	}
}

func TestEngineRejects(t *testing.T) {
	tests := []struct {
		version string
		want    int
	}{
		{"20.10.24+dfsg1", 3},
		{"22.06.0", 3},
		{"23.0.1", 0},
		{"28.2.2", 0},
		{"garbage", 0},
	}
	for _, tt := range tests {
		if got := len(engineRejects(tt.version)); got != tt.want {
			t.Errorf("engineRejects(%q) = %d names, want %d", tt.version, got, tt.want)
		}
	}
}

func TestHostDevicesFindsNull(t *testing.T) {
	devs, err := hostDevices("/dev")
	if err != nil {
		t.Fatal(err)
	}
	paths := devicePaths(devs)
	if paths["c 1:3"] != "/dev/null" {
		t.Errorf("c 1:3 = %q, want /dev/null (found %d devices)", paths["c 1:3"], len(devs))
	}
	for _, d := range devs {
		if filepath.Dir(d.Path) == "/dev/pts" {
			t.Errorf("pseudo-terminal %s listed", d.Path)
		}
	}
}

func TestProjectNameIsolated(t *testing.T) {
	a, b := projectName("trace", "My Service"), projectName("trace", "My Service")
	if a == b {
		t.Errorf("two runs share the project name %s", a)
	}
	if want := "capprof-trace-my-service-"; a[:len(want)] != want {
		t.Errorf("projectName = %s, want prefix %s", a, want)
	}
}

func TestTracePrivilegeEmulatesOnlyWhatIsMissing(t *testing.T) {
	supported := []capability.Cap{capability.CAP_CHOWN, capability.CAP_NET_ADMIN, capability.CAP_SYS_RESOURCE, capability.CAP_BPF}
	all := map[capability.Cap]bool{}
	for _, c := range supported {
		all[c] = true
	}
	devs := []HostDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3}, {Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200}}

	full, err := tracePrivilege("28.2.2", supported, all, devs)
	if err != nil {
		t.Fatal(err)
	}
	if full.Emulate {
		t.Errorf("a host with every capability emulates privileged mode: %+v", full.NotGranted)
	}

	lacking := map[capability.Cap]bool{capability.CAP_CHOWN: true, capability.CAP_NET_ADMIN: true, capability.CAP_BPF: true}
	tp, err := tracePrivilege("20.10.24+dfsg1", supported, lacking, devs)
	if err != nil {
		t.Fatal(err)
	}
	if !tp.Emulate {
		t.Error("a host without CAP_SYS_RESOURCE must emulate privileged mode")
	}
	if !slices.Equal(tp.Capabilities, []string{"CHOWN", "NET_ADMIN"}) {
		t.Errorf("capabilities = %v, want CHOWN, NET_ADMIN (BPF is refused by name by Docker 20.10)", tp.Capabilities)
	}
	if len(tp.Devices) != 1 || tp.Devices[0].Path != "/dev/net/tun" {
		t.Errorf("devices = %+v, want /dev/net/tun only (/dev/null every container has)", tp.Devices)
	}
	said := strings.Join(tp.NotGranted, "\n")
	for _, want := range []string{"CAP_SYS_RESOURCE: not in this host's capability bounding set", "CAP_BPF: Docker 20.10.24+dfsg1 refuses it", "/sys"} {
		if !strings.Contains(said, want) {
			t.Errorf("not granted does not say %q:\n%s", want, said)
		}
	}
}

func TestIsolationOverrideDropsContainerName(t *testing.T) {
	dir := t.TempDir()
	base := writeCompose(t, dir, "compose.yml", `
services:
  app:
    image: a
    container_name: myapp
  db:
    image: d
`)
	y, err := isolationOverride([]string{"app"})
	if err != nil {
		t.Fatal(err)
	}
	over := writeCompose(t, dir, "isolation.yml", string(y))
	project, err := LoadProject(context.Background(), []string{base, over})
	if err != nil {
		t.Fatalf("compose-go rejects the isolation override: %v\n%s", err, y)
	}
	if name := project.Services["app"].ContainerName; name != "" {
		t.Errorf("container_name = %q, want it reset", name)
	}
}

func TestSharedMounts(t *testing.T) {
	var svc types.ServiceConfig
	svc.Volumes = []types.ServiceVolumeConfig{
		{Type: types.VolumeTypeBind, Source: "/srv", Target: "/mnt/export", Bind: &types.ServiceVolumeBind{Propagation: "rshared"}},
		{Type: types.VolumeTypeBind, Source: "/etc", Target: "/host-etc", Bind: &types.ServiceVolumeBind{Propagation: "rprivate"}},
		{Type: types.VolumeTypeVolume, Source: "data", Target: "/data"},
		{Type: types.VolumeTypeBind, Source: "/x", Target: "/y"},
	}
	if got := sharedMounts(svc); len(got) != 1 || got[0] != "/mnt/export (rshared)" {
		t.Errorf("sharedMounts = %v", got)
	}
}
