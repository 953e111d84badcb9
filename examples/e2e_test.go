package examples

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-shellwords"

	"github.com/capprof/capprof/audit"
	"github.com/capprof/capprof/internal/testutil"
	"github.com/capprof/capprof/profiler"
	"github.com/capprof/capprof/profiles"
)

// example is an example folder's example.json: its workload and the least
// privilege it is known to need, established by ablation outside capprof
// (see the example's README).
type example struct {
	Service  string   `json:"service"`
	Exec     []string `json:"exec"`
	Run      []string `json:"run"`
	Duration string   `json:"duration"`
	Timeout  string   `json:"timeout"`
	// Minimize profiles with --minimize, and MinimizeRemoves are exactly
	// the grants minimization must remove: those the trace alone grants
	// without need (see the example's README). Empty means the trace's
	// answer is already minimal.
	Minimize        bool     `json:"minimize"`
	MinimizeRemoves []string `json:"minimize_removes"`
	Expect          struct {
		CapAdd  []string `json:"cap_add"`
		Devices []string `json:"devices"`
		// Sysctls are exactly the sysctls the merged project must set;
		// absent means none.
		Sysctls map[string]string `json:"sysctls"`
		// NoNewPrivileges is whether security_opt must set
		// no-new-privileges; absent means it must (what most services get).
		NoNewPrivileges *bool `json:"no_new_privileges"`
	} `json:"expect"`
}

func loadExample(t *testing.T, dir string) example {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "example.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ex example
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatalf("%s/example.json: %v", dir, err)
	}
	if ex.Expect.CapAdd == nil {
		t.Fatalf("%s/example.json has no expect.cap_add", dir)
	}
	return ex
}

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// endToEnd readies an end-to-end test: it needs root, a Docker daemon and
// the named example images, and returns the capprof binary, built once for
// all tests.
func endToEnd(t *testing.T, images ...string) string {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	for _, img := range images {
		requireImage(t, img)
	}
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "capprof-e2e-"); buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "capprof")
		if out, err := exec.Command("go", "build", "-o", buildBin, "../cmd/capprof").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func requireImage(t *testing.T, dir string) {
	t.Helper()
	tag := "capprof-example/" + filepath.Base(dir) + ":latest"
	if err := exec.Command("docker", "image", "inspect", tag).Run(); err != nil {
		testutil.Skip(t, fmt.Sprintf("image %s is not built: run make images", tag))
	}
}

func TestExamplesEndToEnd(t *testing.T) {
	bin := endToEnd(t)
	dirs, err := filepath.Glob("*/example.json")
	if err != nil || len(dirs) < 10 {
		t.Fatalf("found %d examples, want the corpus of at least 10 (%v)", len(dirs), err)
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		t.Run(dir, func(t *testing.T) {
			requireImage(t, dir)
			ex := loadExample(t, dir)
			out := t.TempDir()
			args := []string{"profile", "-f", filepath.Join(dir, "compose.yml"), "--service", ex.Service, "--out", out}
			for _, c := range ex.Exec {
				args = append(args, "--exec", c)
			}
			for _, c := range ex.Run {
				args = append(args, "--run", c)
			}
			if ex.Duration != "" {
				args = append(args, "--duration", ex.Duration)
			}
			if ex.Timeout != "" {
				args = append(args, "--timeout", ex.Timeout)
			}
			if ex.Minimize {
				args = append(args, "--minimize")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, args...)
			output, err := cmd.CombinedOutput()
			t.Logf("capprof %s\n%s", strings.Join(args, " "), output)
			if err != nil {
				t.Fatalf("capprof profile: %v", err)
			}
			report := readReport(t, filepath.Join(out, "report.json"))
			if len(report.Services) != 1 {
				t.Fatalf("report has %d services", len(report.Services))
			}
			sr := report.Services[0]
			if sr.Verification == nil || !sr.Verification.Passed || !sr.Verified {
				t.Errorf("verified %v, verification = %+v, want passed", sr.Verified, sr.Verification)
			}
			overrideText, err := os.ReadFile(filepath.Join(out, "compose.override.yml"))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(overrideText), "NOT VERIFIED") {
				t.Errorf("the replay passed, and the override still says it is not verified:\n%s", overrideText)
			}
			// What a reviewer must decide is printed, not only written.
			for _, w := range sr.Policy.Warnings {
				if !strings.Contains(string(output), "  - "+w) {
					t.Errorf("warning not printed: %s", w)
				}
			}
			if ex.Minimize {
				if sr.Minimization == nil {
					t.Fatalf("no minimization in the report")
				}
				var removed []string
				for _, r := range sr.Minimization.Removed {
					removed = append(removed, r.Grant)
				}
				sort.Strings(removed)
				want := append([]string{}, ex.MinimizeRemoves...)
				sort.Strings(want)
				if !slices.Equal(removed, want) && !(len(removed) == 0 && len(want) == 0) {
					t.Errorf("minimization removed %v, want %v (the trace's own answer should be minimal but for these)", removed, want)
				}
				t.Logf("%s: minimization took %d replays", ex.Service, sr.Minimization.Replays)
			}
			project, err := profiler.LoadProject(ctx, []string{filepath.Join(dir, "compose.yml"), filepath.Join(out, "compose.override.yml")})
			if err != nil {
				t.Fatalf("the generated override does not load over compose.yml: %v", err)
			}
			svc := project.Services[ex.Service]
			caps := append([]string{}, svc.CapAdd...)
			sort.Strings(caps)
			want := append([]string{}, ex.Expect.CapAdd...)
			sort.Strings(want)
			if !slices.Equal(caps, want) {
				t.Errorf("cap_add = %v, want %v", caps, want)
			}
			var devs []string
			for _, d := range svc.Devices {
				devs = append(devs, d.Source)
			}
			sort.Strings(devs)
			wantDevs := append([]string{}, ex.Expect.Devices...)
			sort.Strings(wantDevs)
			if !slices.Equal(devs, wantDevs) && !(len(devs) == 0 && len(wantDevs) == 0) {
				t.Errorf("devices = %v, want %v", devs, wantDevs)
			}
			// No expect.sysctls means none: a sysctl the service did not set is a
			// false change (the runtime's own writes and their side effects).
			if !maps.Equal(map[string]string(svc.Sysctls), ex.Expect.Sysctls) &&
				!(len(svc.Sysctls) == 0 && len(ex.Expect.Sysctls) == 0) {
				t.Errorf("sysctls = %v, want %v", svc.Sysctls, ex.Expect.Sysctls)
			}
			wantNNP := ex.Expect.NoNewPrivileges == nil || *ex.Expect.NoNewPrivileges
			if got := slices.Contains(svc.SecurityOpt, "no-new-privileges:true"); got != wantNNP {
				t.Errorf("security_opt %v: no-new-privileges %v, want %v", svc.SecurityOpt, got, wantNNP)
			}
			if svc.Privileged || !slices.Equal(svc.CapDrop, []string{"ALL"}) {
				t.Errorf("privileged %v cap_drop %v, want false and [ALL]", svc.Privileged, svc.CapDrop)
			}
			auditOverride(t, bin, dir, out, wantNNP)
			upByHand(t, ctx, dir, out, ex)
		})
	}
}

// auditOverride runs capprof audit over the example with and without the
// generated override: the base is flagged privileged, and the override
// leaves none of the privilege findings standing (no privileged, every
// default capability dropped, seccomp confined, no-new-privileges unless
// the example needs it off).
func auditOverride(t *testing.T, bin, dir, out string, wantNNP bool) {
	t.Helper()
	run := func(files ...string) map[string]int {
		args := []string{"audit", "--format", "json", "--fail-on", "none"}
		for _, f := range files {
			args = append(args, "-f", f)
		}
		stdout, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("capprof %s: %v", strings.Join(args, " "), err)
		}
		var r audit.Report
		if err := json.Unmarshal(stdout, &r); err != nil {
			t.Fatalf("capprof audit --format json: %v\n%s", err, stdout)
		}
		counts := map[string]int{}
		for _, f := range r.Findings {
			counts[f.RuleID]++
		}
		return counts
	}
	base := run(filepath.Join(dir, "compose.yml"))
	if base["privileged"] != 1 {
		t.Errorf("capprof audit of %s/compose.yml: %d privileged findings, want 1", dir, base["privileged"])
	}
	merged := run(filepath.Join(dir, "compose.yml"), filepath.Join(out, "compose.override.yml"))
	for _, rule := range []string{"privileged", "cap-add-all", "cap-drop-all-missing", "seccomp-unconfined", "apparmor-unconfined", "systempaths-unconfined", "device-cgroup-rule"} {
		if merged[rule] != 0 {
			t.Errorf("capprof audit with the generated override: %d %s findings, want none", merged[rule], rule)
		}
	}
	if got := merged["no-new-privileges-missing"] == 0; got != wantNNP {
		t.Errorf("capprof audit with the generated override: no-new-privileges set %v, want %v", got, wantNNP)
	}
}

func readReport(t *testing.T, path string) profiles.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r profiles.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

// upByHand does what the README tells a user to do with the output: compose
// up with the override, then runs the workload against it.
func upByHand(t *testing.T, ctx context.Context, dir, out string, ex example) {
	t.Helper()
	project := fmt.Sprintf("capprof-e2e-%s-%d", filepath.Base(dir), os.Getpid())
	composeIn := func(ctx context.Context, args ...string) ([]byte, error) {
		full := append([]string{"compose", "-p", project, "-f", filepath.Join(dir, "compose.yml"), "-f", filepath.Join(out, "compose.override.yml")}, args...)
		return exec.CommandContext(ctx, "docker", full...).CombinedOutput()
	}
	compose := func(args ...string) ([]byte, error) { return composeIn(ctx, args...) }
	t.Cleanup(func() {
		// The test's context is gone by now: clean up under a context of its own.
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := composeIn(cctx, "down", "--volumes", "--remove-orphans", "--timeout", "5"); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	if b, err := compose("up", "--detach", ex.Service); err != nil {
		t.Fatalf("docker compose up with the override: %v\n%s", err, b)
	}
	deadline := time.Now().Add(20 * time.Second)
	_, noShell := compose("exec", "-T", ex.Service, "/bin/sh", "-c", "true")
	for _, c := range ex.Exec {
		argv := []string{"/bin/sh", "-c", c}
		if noShell != nil {
			var err error
			if argv, err = shellwords.Parse(c); err != nil {
				t.Fatal(err)
			}
		}
		for {
			b, err := compose(append([]string{"exec", "-T", ex.Service}, argv...)...)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("workload %q under the override by hand: %v\n%s", c, err, b)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	for _, c := range ex.Run {
		for {
			b, err := exec.CommandContext(ctx, "sh", "-c", c).CombinedOutput()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("host workload %q under the override by hand: %v\n%s", c, err, b)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}
