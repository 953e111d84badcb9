package profiler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeCompose(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadProject(t *testing.T) {
	dir := t.TempDir()
	base := writeCompose(t, dir, "compose.yml", `
services:
  web:
    image: ${WEB_IMAGE:-nginx-local}
    privileged: true
  helper:
    image: busybox-local
    profiles: [debug]
    extends:
      service: web
`)
	more := writeCompose(t, dir, "more.yml", `
services:
  web:
    cap_add: [NET_ADMIN]
`)
	writeCompose(t, dir, ".env", "WEB_IMAGE=example/web:1\nHELPER_TAG=from-dotenv\n")
	project, err := LoadProject(context.Background(), []string{base, more})
	if err != nil {
		t.Fatal(err)
	}
	web, err := lookupService(project, "web")
	if err != nil {
		t.Fatal(err)
	}
	if web.Image != "example/web:1" || !web.Privileged || len(web.CapAdd) != 1 {
		t.Errorf("web = image %q privileged %v cap_add %v; want the image from .env, privileged, the second file's cap_add", web.Image, web.Privileged, web.CapAdd)
	}
	helper, err := lookupService(project, "helper")
	if err != nil {
		t.Fatalf("a service behind a profile must be found: %v", err)
	}
	if !helper.Privileged {
		t.Errorf("extends did not carry privileged into helper")
	}
}

func TestLoadProjectErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeCompose(t, dir, "broken.yml", "services:\n  web:\n    image: [unclosed\n")
	good := writeCompose(t, dir, "compose.yml", "services:\n  web:\n    image: x\n")
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"invalid yaml", []string{bad}, "broken.yml"},
		{"missing file", []string{filepath.Join(dir, "nope.yml")}, "nope.yml"},
		{"no file", nil, "pass -f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadProject(context.Background(), tt.files)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a LoadError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to name %q", err, tt.want)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("err spans several lines: %q", err)
			}
		})
	}
	project, err := LoadProject(context.Background(), []string{good})
	if err != nil {
		t.Fatal(err)
	}
	_, err = lookupService(project, "db")
	if !errors.Is(err, ErrUnknownService) || !strings.Contains(err.Error(), "services: web") {
		t.Errorf("unknown service error = %v, want ErrUnknownService listing web", err)
	}
}

func TestPrivilegedClosure(t *testing.T) {
	dir := t.TempDir()
	f := writeCompose(t, dir, "compose.yml", `
services:
  app:
    image: a
    privileged: true
    depends_on: [db, cache]
  db:
    image: d
    privileged: true
    depends_on: [cache]
  cache:
    image: c
  other:
    image: o
    privileged: true
`)
	project, err := LoadProject(context.Background(), []string{f})
	if err != nil {
		t.Fatal(err)
	}
	app, _ := lookupService(project, "app")
	got := strings.Join(privilegedClosure(project, app), ",")
	if got != "app,db" {
		t.Errorf("privilegedClosure = %s, want app,db", got)
	}
}

// The user's data a trace run writes and a replay then reads: read-write
// host paths and external volumes, not capprof's own volumes or read-only
// mounts.
func TestPersistentMounts(t *testing.T) {
	dir := t.TempDir()
	file := writeCompose(t, dir, "compose.yml", `
services:
  app:
    image: busybox
    volumes:
      - ./data:/data
      - ./conf:/conf:ro
      - ext:/ext
      - scratch:/scratch
      - type: volume
        source: named
        target: /named
    tmpfs: [/tmp]
volumes:
  ext:
    external: true
    name: shared-data
  scratch: {}
  named:
    external: true
`)
	project, err := LoadProject(context.Background(), []string{file})
	if err != nil {
		t.Fatal(err)
	}
	got := persistentMounts(project, project.Services["app"])
	want := []string{"the host path " + filepath.Join(dir, "data"), "the external volume shared-data", "the external volume named"}
	if !slices.Equal(got, want) {
		t.Errorf("persistentMounts = %q, want %q", got, want)
	}
}
