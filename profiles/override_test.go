package profiles

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func TestComposeOverrideGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPolicy(tc.rec(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.ComposeOverride()
			if err != nil {
				t.Fatal(err)
			}
			again, err := p.ComposeOverride()
			if err != nil || string(again) != string(got) {
				t.Fatalf("second rendering differs (err %v)", err)
			}
			assertGolden(t, tc.name+".override.yml", got)
		})
	}
}

func TestComposeOverrideEmptyNeeds(t *testing.T) {
	p, err := NewPolicy(emptyRecording(), PolicyOptions{NoNewPrivileges: boolPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.ComposeOverride()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cap_add: !override []\n", "devices: !override []\n", "privileged: false\n", "- no-new-privileges:true"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("override lacks %q:\n%s", want, out)
		}
	}
}

// An unverified policy says so at the top of its override, and warnings are
// wrapped comments a reviewer reads there; both go once verified or gone.
func TestComposeOverrideUnverifiedAndWarnings(t *testing.T) {
	p, err := NewPolicy(emptyRecording(), PolicyOptions{NoNewPrivileges: boolPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	p.Unverified = "written with --no-verify: no replay under it passed"
	p.Warnings = []string{strings.Repeat("io_uring is allowed and bypasses seccomp ", 6)}
	out, err := p.ComposeOverride()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	if !strings.Contains(text, "\n# NOT VERIFIED: written with --no-verify: no replay under it passed.\n") {
		t.Errorf("override does not say it is unverified:\n%s", text)
	}
	if strings.Count(text, "# Review: io_uring is allowed") != 1 || strings.Count(text, "bypasses seccomp") != 6 {
		t.Errorf("override does not carry the warning once, whole:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") && len(line) > commentWidth {
			t.Errorf("comment line of %d characters, want at most %d: %q", len(line), commentWidth, line)
		}
	}
	if svc := loadMerged(t, "idle", text); svc.Privileged || len(svc.CapDrop) != 1 {
		t.Errorf("merged service with the commented override = privileged %v, cap_drop %v", svc.Privileged, svc.CapDrop)
	}
	p.Unverified, p.Warnings = "", nil
	out, err = p.ComposeOverride()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "NOT VERIFIED") || strings.Contains(string(out), "Review:") {
		t.Errorf("verified override without warnings still carries them:\n%s", out)
	}
}

// baseCompose is a privileged service as people write them before capprof:
// every list the override must replace has something in it to leak.
const baseCompose = `services:
  %s:
    image: busybox:1.36
    privileged: true
    cap_add: [SYS_ADMIN, NET_RAW]
    cap_drop: [MKNOD]
    devices: ["/dev/kmsg:/dev/kmsg"]
    device_cgroup_rules: ["c 10:200 rwm", "a *:* rwm"]
    security_opt: [label=disable]
    sysctls: {net.core.somaxconn: "1024", net.ipv4.ip_forward: "0"}
`

// loadMerged loads base and override with compose-go the way docker compose
// does (compose.yml then compose.override.yml) and returns the service.
func loadMerged(t *testing.T, service, override string) types.ServiceConfig {
	t.Helper()
	dir := t.TempDir()
	base := filepath.Join(dir, "compose.yml")
	over := filepath.Join(dir, "compose.override.yml")
	if err := os.WriteFile(base, []byte(strings.ReplaceAll(baseCompose, "%s", service)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(over, []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{base, over}, cli.WithWorkingDirectory(dir), cli.WithName("capprof-test"))
	if err != nil {
		t.Fatal(err)
	}
	project, err := cli.ProjectFromOptions(context.Background(), opts)
	if err != nil {
		t.Fatalf("load compose project: %v\noverride:\n%s", err, override)
	}
	svc, err := project.GetService(service)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// The override must survive compose's merge: the merged service ends with
// exactly the policy, nothing of the privileged base left.
func TestComposeOverrideMergesWithComposeGo(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPolicy(tc.rec(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.ComposeOverride()
			if err != nil {
				t.Fatal(err)
			}
			svc := loadMerged(t, p.Service, string(out))

			if svc.Privileged {
				t.Error("merged service is still privileged")
			}
			if !slices.Equal(svc.CapDrop, []string{"ALL"}) {
				t.Errorf("cap_drop = %v, want [ALL]", svc.CapDrop)
			}
			var wantCaps []string
			for _, g := range p.CapAdd {
				wantCaps = append(wantCaps, g.Capability)
			}
			if !slices.Equal(svc.CapAdd, wantCaps) {
				t.Errorf("cap_add = %v, want exactly %v", svc.CapAdd, wantCaps)
			}
			var gotDevs, wantDevs []string
			for _, d := range svc.Devices {
				gotDevs = append(gotDevs, d.Source+":"+d.Target+":"+d.Permissions)
			}
			for _, d := range p.Devices {
				wantDevs = append(wantDevs, d.HostPath+":"+d.ContainerPath+":"+d.Access)
			}
			if !slices.Equal(gotDevs, wantDevs) {
				t.Errorf("devices = %v, want exactly %v", gotDevs, wantDevs)
			}
			if len(svc.DeviceCgroupRules) != 0 {
				t.Errorf("device_cgroup_rules = %v, want the base's rules reset", svc.DeviceCgroupRules)
			}
			wantSec := []string{"seccomp=" + p.SeccompPath}
			if p.NoNewPrivileges {
				wantSec = append(wantSec, "no-new-privileges:true")
			}
			if !slices.Equal(svc.SecurityOpt, wantSec) {
				t.Errorf("security_opt = %v, want exactly %v", svc.SecurityOpt, wantSec)
			}
			// The base's own sysctls stay; the recorded ones are added or win.
			wantSysctls := map[string]string{"net.core.somaxconn": "1024", "net.ipv4.ip_forward": "0"}
			for k, v := range p.Sysctls {
				wantSysctls[k] = v
			}
			if !maps.Equal(map[string]string(svc.Sysctls), wantSysctls) {
				t.Errorf("sysctls = %v, want %v", svc.Sysctls, wantSysctls)
			}
		})
	}
}

// compose-go v2.16.2 accepts !override on a mapping too; capprof does not
// use it for sysctls, which would drop the base file's own.
func TestComposeOverrideTagOnMapping(t *testing.T) {
	svc := loadMerged(t, "x", "services:\n  x:\n    sysctls: !override {net.ipv4.ip_forward: \"1\"}\n")
	if want := map[string]string{"net.ipv4.ip_forward": "1"}; !maps.Equal(map[string]string(svc.Sysctls), want) {
		t.Errorf("sysctls = %v, want %v", svc.Sysctls, want)
	}
}

// Why the tags are there: without them compose-go merges the lists as a
// union and the privileged base's grants survive the override. If this test
// starts failing, compose changed its merge rules and the tags may no longer
// be needed (or may no longer be enough).
func TestComposeMergeWithoutOverrideTagIsUnion(t *testing.T) {
	svc := loadMerged(t, "tun", `services:
  tun:
    privileged: false
    cap_add: [NET_ADMIN]
    security_opt: ["seccomp=seccomp/tun.json"]
`)
	if !slices.Contains(svc.CapAdd, "SYS_ADMIN") || !slices.Contains(svc.CapAdd, "NET_ADMIN") {
		t.Errorf("cap_add = %v, want the union with the base's SYS_ADMIN", svc.CapAdd)
	}
	if !slices.Contains(svc.SecurityOpt, "label=disable") {
		t.Errorf("security_opt = %v, want the union with the base's label=disable", svc.SecurityOpt)
	}
}

// !reset removes the attribute altogether (the node is dropped from the
// override too), while !override replaces it with the tagged value.
func TestComposeResetAndOverrideTags(t *testing.T) {
	svc := loadMerged(t, "tun", `services:
  tun:
    cap_add: !reset []
    devices: !reset null
    security_opt: !override [no-new-privileges:true]
`)
	if len(svc.CapAdd) != 0 || len(svc.Devices) != 0 {
		t.Errorf("after !reset: cap_add = %v, devices = %v, want none", svc.CapAdd, svc.Devices)
	}
	if !slices.Equal(svc.SecurityOpt, []string{"no-new-privileges:true"}) {
		t.Errorf("security_opt = %v", svc.SecurityOpt)
	}
	if !svc.Privileged {
		t.Error("privileged: untouched attributes must keep the base's value")
	}
}

// Program names come from the workload; one with a newline must not inject
// YAML into the override.
func TestComposeOverrideHostileProgramName(t *testing.T) {
	rec := tunRecording()
	rec.Capabilities[0].Programs = []ProgramCount{{Program: "x\n    privileged: true\n#", Count: 1}}
	p, err := NewPolicy(rec, PolicyOptions{NoNewPrivileges: boolPtr(true)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.ComposeOverride()
	if err != nil {
		t.Fatal(err)
	}
	if svc := loadMerged(t, "tun", string(out)); svc.Privileged || !slices.Equal(svc.CapAdd, []string{"NET_ADMIN"}) {
		t.Errorf("program name changed the override:\n%s", out)
	}
}

// OverrideService reads back the service the first line names, and nothing
// from a first line capprof did not write that way.
func TestOverrideService(t *testing.T) {
	p, err := NewPolicy(emptyRecording(), PolicyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.ComposeOverride()
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if got, ok := OverrideService(first); !ok || got != "idle" {
		t.Errorf("OverrideService(%q) = %q, %v; want idle", first, got, ok)
	}
	for _, line := range []string{"services:", "# my own override", "# " + GeneratedMark + " from a trace run of service idle"} {
		if got, ok := OverrideService(line); ok {
			t.Errorf("OverrideService(%q) = %q, want none", line, got)
		}
	}
}
