package examples

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/capprof/capprof/profiles"
)

// writeProject writes a compose file into a fresh directory.
func writeProject(t *testing.T, compose string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runCapprof(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), exitCode(err)
}

// A service that does its privileged work at start and exits: with no
// workload capprof observes until the command exits, and the tracer, attached
// before the container starts, sees the start-up.
func TestProfileStartupOnly(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  oneshot:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    entrypoint: ["/bin/sh", "-c", "ip tuntap add dev tun7 mode tun && ip link show tun7"]
`)
	out := filepath.Join(dir, "out")
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "oneshot", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, output)
	}
	if !strings.Contains(output, "observing until the service exits") {
		t.Errorf("capprof did not say it observes the service alone:\n%s", output)
	}
	report := readReport(t, filepath.Join(out, "report.json"))
	sr := report.Services[0]
	if got := grantNames(sr.Policy); got != "NET_ADMIN" {
		t.Errorf("cap_add = %s, want NET_ADMIN (start-up must be recorded)\n%s", got, output)
	}
	if len(sr.Devices) != 1 || sr.Devices[0].Path != "/dev/net/tun" {
		t.Errorf("devices = %+v, want /dev/net/tun", sr.Devices)
	}
	if sr.Verification == nil || !sr.Verification.Passed {
		t.Errorf("verification = %+v, want passed", sr.Verification)
	}
}

// A replay that is denied what the trace run was granted fails with exit 3,
// says what was denied, and still writes the report that says so. The
// service here does its privileged step only on its second start, which is
// the replay. The first start makes the same mount(2) call on a path that
// does not exist, which fails before the kernel checks CAP_SYS_ADMIN: so the
// syscall is in the profile, and the capability check, not seccomp, stops the
// replay.
func TestProfileFailedReplay(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  sneaky:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    volumes: ["./state:/state"]
    entrypoint: ["/bin/sh", "-c", "if [ -e /state/traced ]; then mount -t tmpfs tmpfs /mnt || true; else touch /state/traced; mount -t tmpfs tmpfs /no/such/dir || true; fi; trap 'exit 0' TERM; sleep infinity & wait"]
`)
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "sneaky",
		"--exec", "test -e /state/traced", "--duration", "2s", "--out", out)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (replay failed):\n%s", code, output)
	}
	if !strings.Contains(output, "CAP_SYS_ADMIN") || !strings.Contains(output, "verification failed") {
		t.Errorf("output does not say CAP_SYS_ADMIN was denied:\n%s", output)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatalf("no report after a failed replay: %v", err)
	}
	var report profiles.Report
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	v := report.Services[0].Verification
	if v == nil || v.Passed || len(v.DeniedCapabilities) == 0 || !strings.HasPrefix(v.DeniedCapabilities[0], "CAP_SYS_ADMIN") {
		t.Errorf("report verification = %+v, want failed with CAP_SYS_ADMIN denied", v)
	}
}

func grantNames(s profiles.PolicySummary) string {
	var names []string
	for _, g := range s.CapAdd {
		names = append(names, g.Capability)
	}
	return strings.Join(names, ",")
}

// A grant the trace run saw but the service does without (an incidental
// chmod whose failure it tolerates) is dropped by `capprof minimize`, with
// the replay that proved it; what the workload needs stays.
func TestMinimizeDropsIncidentalGrant(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  incidental:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    entrypoint: ["/bin/sh", "-c", "touch /tmp/f && chown nobody /tmp/f && (chmod 600 /tmp/f || true); trap 'exit 0' TERM; sleep infinity & wait"]
`)
	out := filepath.Join(dir, "out")
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "incidental",
		"--exec", `test "$(stat -c %U /tmp/f)" = nobody`, "--out", out)
	if code != 0 {
		t.Fatalf("profile: exit %d:\n%s", code, output)
	}
	if got := grantNames(readReport(t, filepath.Join(out, "report.json")).Services[0].Policy); got != "CHOWN,FOWNER" {
		t.Fatalf("traced cap_add = %s, want CHOWN,FOWNER before minimization\n%s", got, output)
	}
	output, code = runCapprof(t, bin, "minimize", out)
	if code != 0 {
		t.Fatalf("minimize: exit %d:\n%s", code, output)
	}
	sr := readReport(t, filepath.Join(out, "report.json")).Services[0]
	if got := grantNames(sr.Policy); got != "CHOWN" {
		t.Errorf("minimized cap_add = %s, want CHOWN\n%s", got, output)
	}
	m := sr.Minimization
	if m == nil || m.Replays == 0 || len(m.Removed) != 1 || m.Removed[0].Grant != "FOWNER" {
		t.Fatalf("minimization = %+v, want FOWNER removed", m)
	}
	proof := m.Trials[m.Removed[0].ProvedBy-1]
	if !proof.Passed || !slices.Contains(proof.Without, "FOWNER") {
		t.Errorf("FOWNER's proof %+v is not a passing replay without it", proof)
	}
	if sr.Verification == nil || !sr.Verification.Passed {
		t.Errorf("verification = %+v, want passed", sr.Verification)
	}
	if v := sr.Verification; v != nil && !slices.ContainsFunc(v.ToleratedDenials, func(s string) bool { return strings.HasPrefix(s, "CAP_FOWNER") }) {
		t.Errorf("tolerated denials = %v, want the chmod's CAP_FOWNER", v.ToleratedDenials)
	}
	override, err := os.ReadFile(filepath.Join(out, "compose.override.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(override), "FOWNER") {
		t.Errorf("the rewritten override still grants FOWNER:\n%s", override)
	}
}

// A healthcheck defined in the compose file runs during the trace run and
// the replay, so what it needs is in the profile although no workload
// command asks for it.
func TestHealthcheckIsProfiled(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  checked:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    entrypoint: ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"]
    healthcheck:
      test: ["CMD-SHELL", "touch /tmp/h && chown nobody /tmp/h"]
      interval: 1h
`)
	out := filepath.Join(dir, "out")
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "checked", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, output)
	}
	sr := readReport(t, filepath.Join(out, "report.json")).Services[0]
	if got := grantNames(sr.Policy); got != "CHOWN" {
		t.Errorf("cap_add = %s, want CHOWN (the healthcheck's chown)\n%s", got, output)
	}
	if v := sr.Verification; v == nil || !v.Passed || len(v.Commands) == 0 || v.Commands[0].Where != "health" {
		t.Errorf("verification = %+v, want passed with the healthcheck as its first command", v)
	}
	// The runtime's init joining the running container for the check is
	// set-up noise of its own class, not the healthcheck's need.
	if !slices.ContainsFunc(sr.Noise, func(n profiles.NoiseUse) bool { return n.Class == profiles.NoiseExecSetup }) {
		t.Errorf("no exec-setup noise among %+v", sr.Noise)
	}
}

// A file-capability program executed by a relative path cannot be read
// from the image (the caller's directory is unknown), but its exec gained
// the capability without an id change: that is granted, and the kernel
// then lets the exec pass under the override.
func TestRelativeFileCapabilityExec(t *testing.T) {
	bin := endToEnd(t, "filecap")
	dir := writeProject(t, `
services:
  relcap:
    image: capprof-example/filecap:latest
    pull_policy: never
    user: "1000:1000"
    privileged: true
    entrypoint: ["/bin/sh", "-c", "cd /usr/local/bin && exec ./httpd -f -p 80 -h /srv/www"]
`)
	out := filepath.Join(dir, "out")
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "relcap", "--out", out,
		"--timeout", "20s", "--exec", `for i in 1 2 3 4 5 6 7 8 9 10; do busybox wget -q -O- http://127.0.0.1:80/ >/dev/null || exit 1; sleep 0.2; done`)
	if code != 0 {
		t.Fatalf("capprof profile: exit %d\n%s", code, output)
	}
	sr := readReport(t, filepath.Join(out, "report.json")).Services[0]
	if got := grantNames(sr.Policy); got != "NET_BIND_SERVICE" {
		t.Errorf("cap_add = %s, want NET_BIND_SERVICE for ./httpd's file capability\n%s", got, output)
	}
	if v := sr.Verification; v == nil || !v.Passed {
		t.Errorf("verification = %+v, want passed", v)
	}
}

// --no-verify writes a result that says it is unproven, in the override and
// in the report; a second service profiled into the same directory is
// refused rather than replacing the first; a read-write bind mount, which
// the trace run writes into, is named in a warning.
func TestProfileNoVerifyAndOneServiceADirectory(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  first:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    volumes: ["./data:/data"]
    entrypoint: ["/bin/sh", "-c", "date > /data/started; trap 'exit 0' TERM; sleep infinity & wait"]
  second:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    entrypoint: ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"]
`)
	out := filepath.Join(dir, "capprof")
	compose := filepath.Join(dir, "compose.yml")
	output, code := runCapprof(t, bin, "profile", "-f", compose, "--service", "first", "--exec", "true", "--no-verify", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, output)
	}
	if !strings.Contains(output, "warning: the trace run and every replay mount the host path "+filepath.Join(dir, "data")) {
		t.Errorf("no warning about the read-write bind mount:\n%s", output)
	}
	override, err := os.ReadFile(filepath.Join(out, "compose.override.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(override), "# NOT VERIFIED: written with --no-verify") {
		t.Errorf("the --no-verify override does not say it is unverified:\n%s", override)
	}
	sr := readReport(t, filepath.Join(out, "report.json")).Services[0]
	if sr.Verified || sr.Verification != nil {
		t.Errorf("report: verified %v, verification %+v; want false and none", sr.Verified, sr.Verification)
	}
	if !strings.Contains(output, "not verified (--no-verify)") {
		t.Errorf("the summary does not say it is not verified:\n%s", output)
	}

	output, code = runCapprof(t, bin, "profile", "-f", compose, "--service", "second", "--exec", "true", "--out", out)
	if code != 2 || !strings.Contains(output, `holds capprof's profile of service "first"`) {
		t.Errorf("profiling another service into the same --out: exit %d, want 2 and a refusal naming first:\n%s", code, output)
	}
	if again, err := os.ReadFile(filepath.Join(out, "compose.override.yml")); err != nil || string(again) != string(override) {
		t.Errorf("the first service's override changed (err %v)", err)
	}
}

// A service that is not privileged in its compose file runs its trace with
// what it asked for, and starts from the kernel's default ip_forward all
// the same: Docker's forwarding on the host is no change of the service's.
func TestProfileNotPrivilegedService(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  plain:
    image: capprof-example/tun:latest
    pull_policy: never
    cap_add: [NET_ADMIN]
    devices: ["/dev/net/tun:/dev/net/tun"]
`)
	out := filepath.Join(dir, "capprof")
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "plain",
		"--exec", "timeout 10 sh -c 'until ip -o addr show dev tun0 | grep -q 192.0.2.1; do sleep 0.2; done'", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, output)
	}
	sr := readReport(t, filepath.Join(out, "report.json")).Services[0]
	if got := grantNames(sr.Policy); got != "NET_ADMIN" {
		t.Errorf("cap_add = %s, want NET_ADMIN\n%s", got, output)
	}
	if len(sr.Policy.Sysctls) != 0 || len(sr.Sysctls) != 0 {
		t.Errorf("sysctls = %v (changes %+v), want none: the service writes no sysctl\n%s", sr.Policy.Sysctls, sr.Sysctls, output)
	}
	if !sr.Verified {
		t.Errorf("not verified: %+v", sr.Verification)
	}
	// The summary compares with what the service asked for, not with
	// privileged mode.
	if !strings.Contains(output, "as written (not privileged)") || !strings.Contains(output, "defaults, 1 added, 0 dropped") || strings.Contains(output, "privileged (emulated)") {
		t.Errorf("the summary does not describe the service as written:\n%s", output)
	}
}
