// Package testutil holds the helpers that decide whether a test that needs
// root, Docker or a kernel feature runs here. Such tests skip with a reason on
// a developer's laptop, but fail when CAPPROF_REQUIRE_E2E=1 (set in CI), so
// that a skipped end-to-end test cannot pass for a green run.
package testutil

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// RequireE2EEnv is the environment variable that turns skips into failures.
const RequireE2EEnv = "CAPPROF_REQUIRE_E2E"

// skip skips t with reason, or fails it when end-to-end tests are required.
func skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(RequireE2EEnv) == "1" {
		t.Fatalf("%s (%s=1: end-to-end tests must run here)", reason, RequireE2EEnv)
	}
	t.Skip(reason)
}

// RequireRoot skips the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skip(t, "needs root")
	}
}

// RequireDocker skips the test unless the docker CLI is installed and its
// daemon answers.
func RequireDocker(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		skip(t, "needs the docker CLI")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		skip(t, "needs a running Docker daemon: "+string(out))
	}
}

// Skip skips t with reason, or fails it when end-to-end tests are required.
func Skip(t testing.TB, reason string) {
	t.Helper()
	skip(t, reason)
}
