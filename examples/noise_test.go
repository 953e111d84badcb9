package examples

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/capprof/capprof/profiles"
)

// A service whose start script raises a resource limit as an unprivileged
// user and carries on when that is refused, and reads /proc/kallsyms: the
// raise's CAP_SYS_RESOURCE check is denied in the trace run on any host, so it
// is denied-tolerated noise; the kallsyms read's CAP_SYSLOG check is no-audit
// noise although no *_noaudit frame is on its stack. Neither is granted, and
// the replay, denied SYS_RESOURCE as often, passes.
func TestProfileDeniedToleratedAndNoAuditNoise(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  tolerant:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    entrypoint: ["/bin/sh", "-c", "setpriv --reuid 65534 --regid 65534 --clear-groups sh -c 'ulimit -Hl 16384 || echo raise refused'; head -c 64 /proc/kallsyms >/dev/null; trap 'exit 0' TERM; sleep infinity & wait"]
`)
	out := filepath.Join(dir, "out")
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "tolerant",
		"--exec", "true", "--duration", "1s", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, output)
	}
	sr := readReport(t, filepath.Join(out, "report.json")).Services[0]
	if sr.Verification == nil || !sr.Verification.Passed {
		t.Errorf("verification = %+v, want passed: the replay is denied SYS_RESOURCE as often as the trace run", sr.Verification)
	}
	hasNoise := func(capability string, class profiles.NoiseClass, site, program string) bool {
		return slices.ContainsFunc(sr.Noise, func(n profiles.NoiseUse) bool {
			return n.Capability == capability && n.Class == class && n.Site == site && n.Count > 0 &&
				slices.ContainsFunc(n.Programs, func(p profiles.ProgramCount) bool { return p.Program == program })
		})
	}
	if !hasNoise("CAP_SYS_RESOURCE", profiles.NoiseDeniedTolerated, "do_prlimit", "sh") {
		t.Errorf("no denied-tolerated CAP_SYS_RESOURCE at do_prlimit by sh in the noise: %+v", sr.Noise)
	}
	if !hasNoise("CAP_SYSLOG", profiles.NoiseNoAudit, "kallsyms_show_value", "head") {
		t.Errorf("no no-audit CAP_SYSLOG at kallsyms_show_value by head in the noise: %+v", sr.Noise)
	}
	for _, c := range sr.Capabilities {
		if c.Granted == 0 {
			t.Errorf("capability %s without a granted check among the needs: %+v", c.Capability, c)
		}
	}
	// setpriv's change of user is what the service needs.
	if got := grantNames(sr.Policy); got != "SETGID,SETUID" {
		t.Errorf("cap_add = %s, want SETGID,SETUID (no SYS_RESOURCE, no SYSLOG)\n%s", got, output)
	}
	if !strings.Contains(output, "1 capability only denied, and tolerated") {
		t.Errorf("the progress does not count the denied-only capability:\n%s", output)
	}
}

// Root lists a directory it does not own and then creates a file in it: the
// kernel asks for DAC_READ_SEARCH first for the listing and DAC_OVERRIDE for
// the write. DAC_OVERRIDE would pass the listing as well, so the trace alone
// grants only it, and the replay, denied DAC_READ_SEARCH at the listing and
// granted DAC_OVERRIDE in its place, passes.
func TestProfileSubsumedDacReadSearch(t *testing.T) {
	bin := endToEnd(t, "tun")
	dir := writeProject(t, `
services:
  dirs:
    image: capprof-example/tun:latest
    pull_policy: never
    privileged: true
    entrypoint: ["/bin/sh", "-c", "mkdir -m 700 /private && chown 1000:1000 /private && trap 'exit 0' TERM; sleep infinity & wait"]
`)
	out := filepath.Join(dir, "out")
	output, code := runCapprof(t, bin, "profile", "-f", filepath.Join(dir, "compose.yml"), "--service", "dirs",
		"--exec", "ls /private && touch /private/x", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, output)
	}
	sr := readReport(t, filepath.Join(out, "report.json")).Services[0]
	if got := grantNames(sr.Policy); got != "CHOWN,DAC_OVERRIDE" {
		t.Errorf("cap_add = %s, want CHOWN,DAC_OVERRIDE (no DAC_READ_SEARCH)\n%s", got, output)
	}
	if !slices.ContainsFunc(sr.Noise, func(n profiles.NoiseUse) bool {
		return n.Capability == "CAP_DAC_READ_SEARCH" && n.Class == profiles.NoiseSubsumed && n.Site == "generic_permission" && n.Count > 0
	}) {
		t.Errorf("no subsumed CAP_DAC_READ_SEARCH at generic_permission in the noise: %+v", sr.Noise)
	}
	if sr.Verification == nil || !sr.Verification.Passed {
		t.Errorf("verification = %+v, want passed: DAC_OVERRIDE answers the listing's fallback check", sr.Verification)
	}
}
