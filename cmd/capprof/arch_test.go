package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An --arch capprof cannot translate to is a usage error (exit 2) naming
// what it can, before anything needs root or Docker; the kernel's names for
// the supported ones pass.
func TestArchFlag(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "compose.yml")
	if err := os.WriteFile(good, []byte("services:\n  web:\n    image: x\n    privileged: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yml")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"profile: unknown arch", []string{"profile", "-f", good, "--service", "web", "--out", dir, "--arch", "riscv64"}, exitUsage, `--arch: unsupported architecture: "riscv64" (supported: amd64 or x86_64, arm64 or aarch64)`},
		{"profile: GOARCH spelling of 32-bit arm", []string{"profile", "-f", good, "--service", "web", "--out", dir, "--arch", "arm"}, exitUsage, `unsupported architecture: "arm"`},
		{"minimize: unknown arch", []string{"minimize", "--arch", "ppc64le", dir}, exitUsage, `--arch: unsupported architecture: "ppc64le"`},
		// A valid --arch passes; the next check fails on the missing file.
		{"profile: aarch64 accepted", []string{"profile", "-f", missing, "--service", "web", "--out", dir, "--arch", "aarch64"}, exitUsage, "missing.yml"},
		{"profile: amd64 accepted", []string{"profile", "-f", missing, "--service", "web", "--out", dir, "--arch", "amd64"}, exitUsage, "missing.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApp()
			var out bytes.Buffer
			app.Writer, app.ErrWriter = &out, &out
			err := app.RunContext(context.Background(), append([]string{"capprof"}, tt.args...))
			if got := exitCode(err); got != tt.wantCode {
				t.Errorf("exit code = %d (err %v), want %d", got, err, tt.wantCode)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to say %q", err, tt.want)
			}
			if tt.want == "missing.yml" && strings.Contains(err.Error(), "--arch") {
				t.Errorf("a supported --arch was refused: %v", err)
			}
		})
	}
}
