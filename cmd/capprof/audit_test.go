package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/capprof/capprof/audit"
)

// hardened is a service no rule fires on: it drops every capability, runs
// as a user on a read-only root with no-new-privileges and limits, and
// publishes nothing.
const hardened = `
    image: busybox:1.37
    user: "1000:1000"
    read_only: true
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    pids_limit: 100
    mem_limit: 64m
    cpus: 0.5
`

// auditProject writes the files into a new directory and returns it.
func auditProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runAudit runs capprof audit in-process and returns its exit code and
// what it printed on standard output and standard error.
func runAudit(t *testing.T, args ...string) (code int, stdout, stderr string, err error) {
	t.Helper()
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err = app.RunContext(context.Background(), append([]string{"capprof", "audit"}, args...))
	return exitCode(err), out.String(), errOut.String(), err
}

func TestAuditExitCodes(t *testing.T) {
	t.Setenv("CAPPROF_TEST_UNSET", "")
	os.Unsetenv("CAPPROF_TEST_UNSET")
	dir := auditProject(t, map[string]string{
		"clean.yml":      "services:\n  app:" + hardened,
		"privileged.yml": "services:\n  app:" + hardened + "    privileged: true\n",
		// An acceptance no finding needs is a low finding.
		"low.yml": "services:\n  app:" + hardened + "    x-capprof:\n      accept:\n        privileged: \"reviewed in SEC-1\"\n",
		// The only finding is accepted: suppressed findings never fail.
		"accepted.yml":      "services:\n  app:" + hardened + "    privileged: true\n    x-capprof:\n      accept:\n        privileged: \"drives GPIO; reviewed in SEC-142\"\n",
		"indeterminate.yml": "services:\n  app:" + hardened + "    privileged: ${CAPPROF_TEST_UNSET}\n",
		"bad.yml":           "services: [\n",
		"badext.yml":        "services:\n  app:" + hardened + "    x-capprof: [privileged]\n",
	})
	f := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name     string
		args     []string
		want     int
		stdout   string // printed on standard output
		errorSay string // the error says
	}{
		{"clean", []string{"-f", f("clean.yml")}, exitOK, "0 findings (0 high, 0 medium, 0 low)", ""},
		{"privileged", []string{"-f", f("privileged.yml")}, exitFailure, "HIGH privileged [app] privileged: true", "1 finding at or above --fail-on low"},
		{"only a low finding, --fail-on high", []string{"-f", f("low.yml"), "--fail-on", "high"}, exitOK, "LOW acceptance-unused [app]", ""},
		{"only a low finding, default --fail-on", []string{"-f", f("low.yml")}, exitFailure, "LOW acceptance-unused [app]", "--fail-on low"},
		{"--fail-on none with a high finding", []string{"-f", f("privileged.yml"), "--fail-on", "none"}, exitOK, "HIGH privileged", ""},
		{"--fail-on in capitals", []string{"-f", f("privileged.yml"), "--fail-on", "HIGH"}, exitFailure, "", "--fail-on high"},
		{"accepted risk", []string{"-f", f("accepted.yml")}, exitOK, "suppressed (accepted risk):", ""},
		{"indeterminate counts at its rule's severity", []string{"-f", f("indeterminate.yml"), "--fail-on", "high"}, exitFailure, "HIGH privileged [app] indeterminate:", "--fail-on high"},
		{"merged files", []string{"-f", f("clean.yml"), "-f", f("privileged.yml")}, exitFailure, "privileged.yml:", ""},
		{"missing file", []string{"-f", f("missing.yml")}, exitUsage, "", "missing.yml"},
		{"empty -f", []string{"-f", ""}, exitUsage, "", "an empty one was given"},
		{"invalid yaml", []string{"-f", f("bad.yml")}, exitUsage, "", "bad.yml"},
		{"malformed x-capprof", []string{"-f", f("badext.yml")}, exitUsage, "", "x-capprof"},
		{"bad --format, with findings", []string{"-f", f("privileged.yml"), "--format", "xml"}, exitUsage, "", `--format: unknown report format "xml"`},
		{"bad --fail-on, with findings", []string{"-f", f("privileged.yml"), "--fail-on", "critical"}, exitUsage, "", `--fail-on: unknown severity "critical"`},
		{"stray argument", []string{f("privileged.yml")}, exitUsage, "", "takes no arguments"},
		{"unknown flag", []string{"--nope"}, exitUsage, "", "nope"},
		{"no compose file found", []string{"--project-directory", t.TempDir()}, exitUsage, "", "no compose file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr, err := runAudit(t, tt.args...)
			if code != tt.want {
				t.Errorf("exit code %d (err %v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, tt.want, stdout, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout)
			}
			if tt.errorSay != "" && (err == nil || !strings.Contains(err.Error(), tt.errorSay)) {
				t.Errorf("error %v, want it to say %q", err, tt.errorSay)
			}
			if tt.want == exitOK && err != nil {
				t.Errorf("exit 0 with error %v", err)
			}
			if tt.want == exitUsage && stdout != "" {
				t.Errorf("a usage or load error printed a report:\n%s", stdout)
			}
		})
	}
}

// Without -f the audit finds compose.yml and its compose.override.yml as
// docker compose does, or takes COMPOSE_FILE.
func TestAuditDiscovery(t *testing.T) {
	dir := auditProject(t, map[string]string{
		"compose.yml":          "services:\n  app:" + hardened,
		"compose.override.yml": "services:\n  app:\n    privileged: true\n",
		"other.yml":            "services:\n  other:" + hardened + "    network_mode: host\n    privileged: true\n",
	})
	t.Run("compose.override.yml", func(t *testing.T) {
		t.Setenv("COMPOSE_FILE", "")
		os.Unsetenv("COMPOSE_FILE")
		code, stdout, _, err := runAudit(t, "--project-directory", dir)
		if code != exitFailure {
			t.Errorf("exit code %d (err %v), want %d", code, err, exitFailure)
		}
		if !strings.Contains(stdout, "compose.override.yml:3:5: HIGH privileged [app]") {
			t.Errorf("the override file's privileged is not reported at its line:\n%s", stdout)
		}
		if !strings.Contains(stdout, "2 files read") {
			t.Errorf("both files are not read:\n%s", stdout)
		}
	})
	t.Run("COMPOSE_FILE", func(t *testing.T) {
		t.Setenv("COMPOSE_FILE", filepath.Join(dir, "other.yml"))
		code, stdout, _, err := runAudit(t, "--project-directory", dir)
		if code != exitFailure {
			t.Errorf("exit code %d (err %v), want %d", code, err, exitFailure)
		}
		if !strings.Contains(stdout, "[other]") || strings.Contains(stdout, "[app]") {
			t.Errorf("COMPOSE_FILE is not what was audited:\n%s", stdout)
		}
	})
}

// --output writes the report to the file, prints only a summary on
// standard error, and keeps the exit code.
func TestAuditOutput(t *testing.T) {
	dir := auditProject(t, map[string]string{
		"compose.yml": "services:\n  app:" + hardened + "    privileged: true\n",
	})
	compose := filepath.Join(dir, "compose.yml")
	t.Run("sarif", func(t *testing.T) {
		out := filepath.Join(dir, "capprof.sarif")
		code, stdout, stderr, err := runAudit(t, "-f", compose, "--format", "sarif", "--output", out)
		if code != exitFailure {
			t.Errorf("exit code %d (err %v), want %d", code, err, exitFailure)
		}
		if stdout != "" {
			t.Errorf("stdout holds %q, want nothing: the report went to the file", stdout)
		}
		if !strings.Contains(stderr, "wrote "+out+": 1 finding (1 high") {
			t.Errorf("stderr %q, want the file and the summary", stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var log struct {
			Version string
			Runs    []struct{ Results []struct{ RuleID string } }
		}
		if err := json.Unmarshal(data, &log); err != nil {
			t.Fatalf("the SARIF file does not parse: %v", err)
		}
		if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 || log.Runs[0].Results[0].RuleID != "privileged" {
			t.Errorf("SARIF %+v, want version 2.1.0 with the privileged result", log)
		}
	})
	t.Run("json", func(t *testing.T) {
		out := filepath.Join(dir, "report.json")
		code, _, _, err := runAudit(t, "-f", compose, "--format", "json", "--output", out, "--fail-on", "none")
		if code != exitOK {
			t.Errorf("exit code %d (err %v), want %d", code, err, exitOK)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var r audit.Report
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Findings) != 1 || r.Findings[0].Location.File != "compose.yml" || r.Findings[0].Location.Line != 11 {
			t.Errorf("findings %+v, want privileged at compose.yml:11", r.Findings)
		}
	})
	link := filepath.Join(dir, "link.yml")
	if err := os.Symlink(compose, link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, out, want string }{
		{"over a compose file", compose, "is a compose file the audit read"},
		{"over a link to a compose file", link, "is a compose file the audit read"},
		{"into a missing directory", filepath.Join(dir, "no", "such", "dir", "r.sarif"), "--output"},
		{"empty", "", "pass a file name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(compose)
			code, _, _, err := runAudit(t, "-f", compose, "--output", tt.out)
			if code != exitUsage || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("exit code %d, error %v; want %d saying %q", code, err, exitUsage, tt.want)
			}
			if after, _ := os.ReadFile(compose); !bytes.Equal(before, after) {
				t.Error("the compose file was overwritten")
			}
		})
	}
}

// --list-rules needs no compose file and exits 0.
func TestAuditListRules(t *testing.T) {
	empty := t.TempDir()
	t.Run("text", func(t *testing.T) {
		code, stdout, _, err := runAudit(t, "--list-rules", "--project-directory", empty)
		if code != exitOK {
			t.Fatalf("exit code %d (err %v), want 0", code, err)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != len(audit.Rules()) {
			t.Errorf("%d lines for %d rules:\n%s", len(lines), len(audit.Rules()), stdout)
		}
		if f := strings.Fields(lines[0]); len(f) < 3 || f[0] != "privileged" || f[1] != "high" {
			t.Errorf("first line %q, want privileged high …", lines[0])
		}
	})
	t.Run("json", func(t *testing.T) {
		code, stdout, _, err := runAudit(t, "--list-rules", "--format", "json")
		if code != exitOK {
			t.Fatalf("exit code %d (err %v), want 0", code, err)
		}
		var rules []struct{ ID, Severity, Title string }
		if err := json.Unmarshal([]byte(stdout), &rules); err != nil {
			t.Fatalf("not a JSON list: %v\n%s", err, stdout)
		}
		if len(rules) != len(audit.Rules()) || rules[0].ID != "privileged" || rules[0].Severity != "high" || rules[0].Title == "" {
			t.Errorf("rules %+v", rules)
		}
	})
	t.Run("bad format", func(t *testing.T) {
		if code, _, _, err := runAudit(t, "--list-rules", "--format", "yaml"); code != exitUsage {
			t.Errorf("exit code %d (err %v), want %d", code, err, exitUsage)
		}
	})
}
