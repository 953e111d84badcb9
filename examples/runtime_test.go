package examples

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/capprof/capprof/internal/testutil"
)

// requireRuntime skips the test unless dockerd knows the OCI runtime, or
// fails it when end-to-end tests are required.
func requireRuntime(t *testing.T, runtime string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{json .Runtimes}}").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"`+runtime+`":`) {
		testutil.Skip(t, fmt.Sprintf("needs dockerd with the %s runtime: run scripts/install-deps.sh, then scripts/start-dockerd.sh (runtimes: %s)",
			runtime, strings.TrimSpace(string(out))))
	}
}

// TestProfileUnderEachRuntime profiles the tun example with its service run
// by runc and by crun (compose's `runtime:`), trace run and replay alike.
// crun sets containers up differently (a C program that keeps its name, a
// different window between installing the seccomp filter and the
// entrypoint's execve), and the answer must not change with it.
func TestProfileUnderEachRuntime(t *testing.T) {
	bin := endToEnd(t, "tun")
	ex := loadExample(t, "tun")
	base, err := filepath.Abs(filepath.Join("tun", "compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	// Both runtimes, each with no-new-privileges on and off: without it the
	// runtime installs the seccomp filter earlier and makes more calls under
	// it (setuid, setgroups, capset …), which the profile must allow.
	for _, tc := range []struct {
		runtime string
		nnp     bool
	}{{"runc", true}, {"runc", false}, {"crun", true}, {"crun", false}} {
		runtime := tc.runtime
		t.Run(fmt.Sprintf("%s/no-new-privileges=%v", runtime, tc.nnp), func(t *testing.T) {
			requireRuntime(t, runtime)
			dir := writeProject(t, fmt.Sprintf(`
services:
  %[1]s:
    extends:
      file: %[2]s
      service: %[1]s
    runtime: %[3]s
`, ex.Service, base, runtime))
			out := filepath.Join(dir, "out")
			args := []string{"profile", "-f", filepath.Join(dir, "compose.yml"), "--service", ex.Service, "--out", out,
				fmt.Sprintf("--no-new-privileges=%v", tc.nnp)}
			for _, c := range ex.Exec {
				args = append(args, "--exec", c)
			}
			for _, c := range ex.Run {
				args = append(args, "--run", c)
			}
			if ex.Timeout != "" {
				args = append(args, "--timeout", ex.Timeout)
			}
			// Both runs must really use the runtime: the trace override and
			// the generated one keep the service's `runtime:`.
			args = append(args, "--run", fmt.Sprintf(`test "$(docker inspect --format '{{.HostConfig.Runtime}}' "$CAPPROF_CONTAINER")" = %s`, runtime))
			output, code := runCapprof(t, bin, args...)
			t.Logf("capprof %s\n%s", strings.Join(args, " "), output)
			if code != 0 {
				t.Fatalf("capprof profile: exit %d, want 0", code)
			}

			sr := readReport(t, filepath.Join(out, "report.json")).Services[0]
			if v := sr.Verification; v == nil || !v.Passed {
				t.Errorf("verification = %+v, want passed", v)
			} else if len(v.RefusedSyscalls) > 0 || len(v.DeniedCapabilities) > 0 {
				t.Errorf("the replay passed with refusals: syscalls %v, capabilities %v", v.RefusedSyscalls, v.DeniedCapabilities)
			}
			want := slices.Clone(ex.Expect.CapAdd)
			sort.Strings(want)
			if sr.Policy.NoNewPrivileges != tc.nnp {
				t.Errorf("no-new-privileges %v, want %v as asked", sr.Policy.NoNewPrivileges, tc.nnp)
			}
			if got := grantNames(sr.Policy); got != strings.Join(want, ",") {
				t.Errorf("cap_add = %s, want %s", got, strings.Join(want, ","))
			}
			var devs []string
			for _, d := range sr.Policy.Devices {
				devs = append(devs, d.HostPath)
			}
			if !slices.Equal(devs, ex.Expect.Devices) {
				t.Errorf("devices = %v, want %v", devs, ex.Expect.Devices)
			}
			// The runtime's set-up is kept out of the workload's syscalls.
			for _, s := range sr.Syscalls {
				if slices.Contains([]string{"pivot_root", "mount", "sethostname", "capset", "setns"}, s.Name) {
					t.Errorf("the runtime's set-up call %s is counted as the workload's", s.Name)
				}
			}

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			upByHand(t, ctx, dir, out, ex)
		})
	}
}
