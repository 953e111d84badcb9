package profiler

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --arch adds seccomp/SERVICE.ARCH.json beside the verified profile, only for
// another architecture than the recording's, and never over a file capprof
// did not write.
func TestTranslateTo(t *testing.T) {
	project := t.TempDir()
	mine := filepath.Join(project, "mine")
	if err := os.MkdirAll(filepath.Join(mine, "seccomp"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeCompose(t, filepath.Join(mine, "seccomp"), "web.arm64.json", `{"mine": true}`)

	tests := []struct {
		name, dir, arch, recorded string
		wantPath                  string // relative to dir; empty: no second profile
		wantErr                   string
	}{
		{name: "no --arch", dir: filepath.Join(project, "a"), recorded: "amd64"},
		{name: "the recording's own", dir: filepath.Join(project, "b"), arch: "x86_64", recorded: "amd64"},
		{name: "arm64 from amd64", dir: filepath.Join(project, "c"), arch: "aarch64", recorded: "amd64", wantPath: "seccomp/web.arm64.json"},
		{name: "amd64 from arm64", dir: filepath.Join(project, "d"), arch: "amd64", recorded: "arm64", wantPath: "seccomp/web.amd64.json"},
		{name: "unknown", dir: filepath.Join(project, "e"), arch: "s390x", recorded: "amd64", wantErr: "--arch: unsupported architecture"},
		{name: "the user's file", dir: mine, arch: "arm64", recorded: "amd64", wantErr: "web.arm64.json exists and no report.json of capprof's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := prepareOutput(tt.dir, project, "web", nil)
			if err != nil {
				t.Fatal(err)
			}
			p := &profiler{out: out}
			err = p.translateTo(tt.arch, tt.recorded)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "report.json") && !errors.Is(err, ErrOutput) {
					t.Errorf("err = %v, want ErrOutput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.wantPath != "" {
				want = filepath.Join(tt.dir, tt.wantPath)
			}
			if p.out.archSeccomp != want || (want == "") != (p.arch == "") {
				t.Errorf("archSeccomp = %q arch = %q, want %q", p.out.archSeccomp, p.arch, want)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(mine, "seccomp", "web.arm64.json")); !strings.Contains(string(b), "mine") {
		t.Error("the user's profile was touched")
	}
}
