package audit

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeFiles writes name → content into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadSources loads the project in dir (discovery when files is empty) the
// way Audit does and indexes its YAML.
func loadSources(t *testing.T, dir string, env []string, files ...string) *sources {
	t.Helper()
	for i, f := range files {
		files[i] = filepath.Join(dir, f)
	}
	project, stdin, err := load(context.Background(), Options{Files: files, WorkingDir: dir, Env: env})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	src, err := readSources(project, stdin)
	if err != nil {
		t.Fatalf("readSources: %v", err)
	}
	return src
}

// auditProject writes the files into a new directory and audits them the
// way the CLI does: the -f files given (relative to the directory), or
// discovery when there are none; env nil means an empty environment.
func auditProject(t *testing.T, files map[string]string, env []string, load ...string) *Report {
	t.Helper()
	return auditDir(t, writeFiles(t, files), env, load...)
}

// auditDir audits the project in dir as auditProject does.
func auditDir(t *testing.T, dir string, env []string, load ...string) *Report {
	t.Helper()
	if env == nil {
		env = []string{}
	}
	paths := make([]string, len(load))
	for i, f := range load {
		paths[i] = filepath.Join(dir, f)
	}
	report, err := Audit(context.Background(), Options{Files: paths, WorkingDir: dir, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	return report
}

func scalarIs(want string) func(Item) bool {
	return func(it Item) bool {
		v, ok := it.Scalar()
		return ok && v == want
	}
}

func TestLocate(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		load  []string // -f files; none: discovery
		svc   string
		key   string
		item  func(Item) bool
		want  string // file:line
	}{
		{
			name: "key in the only file",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    privileged: true
`},
			svc: "web", key: "privileged", want: "compose.yml:4",
		},
		{
			name: "override file found by discovery wins",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    privileged: false
`,
				"compose.override.yml": `
services:
  web:
    privileged: true
`},
			svc: "web", key: "privileged", want: "compose.override.yml:3",
		},
		{
			name: "later -f file wins, list items stay in their own file",
			files: map[string]string{
				"a.yml": `
services:
  web:
    image: nginx
    cap_add: [NET_ADMIN]
`,
				"b.yml": `
services:
  web:
    cap_add:
      - SYS_TIME
`},
			load: []string{"a.yml", "b.yml"},
			svc:  "web", key: "cap_add", item: scalarIs("NET_ADMIN"), want: "a.yml:4",
		},
		{
			name: "list item from the second -f file",
			files: map[string]string{
				"a.yml": `
services:
  web:
    image: nginx
    cap_add: [NET_ADMIN]
`,
				"b.yml": `
services:
  web:
    cap_add:
      - SYS_TIME
`},
			load: []string{"a.yml", "b.yml"},
			svc:  "web", key: "cap_add", item: scalarIs("SYS_TIME"), want: "b.yml:4",
		},
		{
			name: "extends in the same file",
			files: map[string]string{"compose.yml": `
services:
  base:
    image: nginx
    privileged: true
  web:
    extends: base
`},
			svc: "web", key: "privileged", want: "compose.yml:4",
		},
		{
			name: "extends another file",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    extends:
      file: common/base.yml
      service: priv
    image: nginx
`,
				"common/base.yml": `
services:
  priv:
    image: busybox
    cap_add:
      - SYS_ADMIN
`},
			svc: "web", key: "cap_add", item: scalarIs("SYS_ADMIN"), want: "common/base.yml:5",
		},
		{
			name: "extends chain: a file extended from another directory extends its neighbour",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    extends:
      file: common/base.yml
      service: priv
`,
				"common/base.yml": `
services:
  priv:
    extends:
      file: core.yml
      service: core
    image: busybox
`,
				"common/core.yml": `
services:
  core:
    image: busybox
    pid: host
`},
			svc: "web", key: "pid", want: "common/core.yml:4",
		},
		{
			name: "include",
			files: map[string]string{
				"compose.yml": `
include:
  - sub/compose.yml
services:
  web:
    image: nginx
`,
				"sub/compose.yml": `
services:
  agent:
    image: busybox
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro
`},
			svc: "agent", key: "volumes", item: scalarIs("/var/run/docker.sock:/var/run/docker.sock:ro"), want: "sub/compose.yml:5",
		},
		{
			name: "merge key from an anchor",
			files: map[string]string{"compose.yml": `
x-priv: &priv
  privileged: true
services:
  web:
    <<: *priv
    image: nginx
`},
			svc: "web", key: "privileged", want: "compose.yml:2",
		},
		{
			name: "aliased list",
			files: map[string]string{"compose.yml": `
x-caps: &caps
  - NET_ADMIN
  - SYS_ADMIN
services:
  web:
    image: nginx
    cap_add: *caps
`},
			svc: "web", key: "cap_add", item: scalarIs("SYS_ADMIN"), want: "compose.yml:3",
		},
		{
			name: "interpolated item",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_add:
      - NET_RAW
      - "${EXTRA_CAP}"
`},
			env: []string{"EXTRA_CAP=SYS_ADMIN"},
			svc: "web", key: "cap_add", item: scalarIs("SYS_ADMIN"), want: "compose.yml:6",
		},
		{
			name: "interpolated from .env",
			files: map[string]string{
				".env": "EXTRA_CAP=SYS_PTRACE\n",
				"compose.yml": `
services:
  web:
    image: nginx
    cap_add: ["${EXTRA_CAP}"]
`},
			svc: "web", key: "cap_add", item: scalarIs("SYS_PTRACE"), want: "compose.yml:4",
		},
		{
			name: "nested key",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    deploy:
      resources:
        limits:
          memory: 64M
`},
			svc: "web", key: "deploy.resources.limits.memory", want: "compose.yml:7",
		},
		{
			name: "mapping entry",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    sysctls:
      net.core.somaxconn: 1024
      net.ipv4.ip_forward: 1
`},
			svc: "web", key: "sysctls", item: func(it Item) bool { return it.Key() == "net.ipv4.ip_forward" }, want: "compose.yml:6",
		},
		{
			name: "missing key is located at the service in the first file",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
`,
				"compose.override.yml": `
services:
  web:
    environment: [A=1]
`},
			svc: "web", key: "cap_drop", want: "compose.yml:2",
		},
		{
			name: "an !override list hides the earlier file's items",
			files: map[string]string{
				"a.yml": `
services:
  web:
    image: nginx
    cap_add: [NET_ADMIN, SYS_ADMIN]
`,
				"b.yml": `
services:
  web:
    cap_add: !override
      - SYS_ADMIN
`},
			load: []string{"a.yml", "b.yml"},
			svc:  "web", key: "cap_add", item: scalarIs("SYS_ADMIN"), want: "b.yml:4",
		},
		{
			name: "long volume syntax field",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    volumes:
      - type: bind
        source: /etc
        target: /host-etc
`},
			svc: "web", key: "volumes",
			item: func(it Item) bool { v, ok := it.Field("target"); return ok && v == "/host-etc" },
			want: "compose.yml:5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			env := tt.env
			if env == nil {
				env = []string{}
			}
			src := loadSources(t, dir, env, tt.load...)
			got := src.locate(tt.svc, tt.key, tt.item)
			if s := got.File + ":" + strconv.Itoa(got.Line); s != tt.want {
				t.Errorf("locate(%s, %s) = %s, want %s", tt.svc, tt.key, s, tt.want)
			}
		})
	}
}

func TestUnsetKeys(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		load  []string
		env   []string
		want  map[string]string // key → location of the unset variable
	}{
		{
			name: "unset scalar",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    privileged: ${PRIV}
`},
			want: map[string]string{"privileged": "compose.yml:4"},
		},
		{
			name: "set variable",
			env:  []string{"PRIV=false"},
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    privileged: ${PRIV}
`},
			want: map[string]string{},
		},
		{
			name: "default value",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    privileged: ${PRIV:-false}
    user: "${UID-1000}"
`},
			want: map[string]string{},
		},
		{
			name: "required variables without a value are unset, not a load error",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    privileged: ${PRIV:?set PRIV}
    cap_add: ["${CAP?need a capability}"]
`},
			want: map[string]string{"privileged": "compose.yml:4", "cap_add": "compose.yml:5"},
		},
		{
			name: "required variables with a value",
			env:  []string{"PRIV=false", "CAP=NET_RAW"},
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    privileged: ${PRIV:?set PRIV}
    cap_add: ["${CAP?need a capability}"]
`},
			want: map[string]string{},
		},
		{
			name: "unbraced variable in a list item",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    cap_add:
      - NET_RAW
      - $CAP
`},
			want: map[string]string{"cap_add": "compose.yml:6"},
		},
		{
			name: "a later file's scalar replaces the unset one",
			load: []string{"a.yml", "b.yml"},
			files: map[string]string{
				"a.yml": `
services:
  web:
    image: nginx
    privileged: ${PRIV}
`,
				"b.yml": `
services:
  web:
    privileged: false
`},
			want: map[string]string{},
		},
		{
			name: "a later file's list adds to the unset one",
			load: []string{"a.yml", "b.yml"},
			files: map[string]string{
				"a.yml": `
services:
  web:
    image: nginx
    security_opt: ["${SECOPT}"]
`,
				"b.yml": `
services:
  web:
    security_opt: [no-new-privileges:true]
`},
			want: map[string]string{"security_opt": "a.yml:4"},
		},
		{
			name: "an !override list drops the unset one",
			load: []string{"a.yml", "b.yml"},
			files: map[string]string{
				"a.yml": `
services:
  web:
    image: nginx
    security_opt: ["${SECOPT}"]
`,
				"b.yml": `
services:
  web:
    security_opt: !override [no-new-privileges:true]
`},
			want: map[string]string{},
		},
		{
			name: "escaped dollar is no variable",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    user: "$$HOME"
`},
			want: map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			env := tt.env
			if env == nil {
				env = []string{}
			}
			src := loadSources(t, dir, env, tt.load...)
			got := map[string]string{}
			for k, u := range src.unsetKeys("web") {
				got[k] = u.loc.File + ":" + strconv.Itoa(u.loc.Line)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("unsetKeys = %v, want %v", got, tt.want)
			}
			for k, w := range tt.want {
				if got[k] != w {
					t.Errorf("unsetKeys[%s] = %q, want %q", k, got[k], w)
				}
			}
		})
	}
}

// A required variable without a value (${VAR:?message}) does not stop the
// audit, as it stops docker compose: in a security setting it is
// indeterminate like an unset ${VAR}, elsewhere it does not matter.
func TestRequiredVariables(t *testing.T) {
	files := map[string]string{"compose.yml": `
services:
  db:
    image: postgres
    privileged: ${PRIV:?set PRIV}
    environment:
      POSTGRES_PASSWORD: ${DB_PASSWORD:?required variable}
`}
	tests := []struct {
		name string
		env  []string
		want string // the privileged finding: "" none, else rule?VARS or rule:severity
	}{
		{"unset", nil, "privileged?PRIV"},
		{"set empty", []string{"PRIV=", "DB_PASSWORD="}, "privileged?PRIV"},
		{"set", []string{"PRIV=true", "DB_PASSWORD=x"}, "privileged:high"},
		{"set to false", []string{"PRIV=false", "DB_PASSWORD=x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := auditProject(t, files, tt.env)
			got := ""
			for _, f := range report.Findings {
				if strings.Contains(f.Message, "DB_PASSWORD") {
					t.Errorf("a finding about the environment's variable: %+v", f)
				}
				if f.RuleID != "privileged" {
					continue
				}
				got = f.RuleID + ":" + f.Severity.String()
				if f.Indeterminate {
					got = f.RuleID + "?" + strings.Join(f.Variables, ",")
				}
			}
			if got != tt.want {
				t.Errorf("privileged finding %q, want %q", got, tt.want)
			}
		})
	}
}

// -f - reads the compose file from standard input, as docker compose
// does: findings are located in "stdin", relative paths start from the
// working directory, and it merges with -f files like any other.
func TestComposeFileFromStdin(t *testing.T) {
	dir := writeFiles(t, map[string]string{"override.yml": `
services:
  web:
    cap_add: [SYS_ADMIN]
`})
	stdin := strings.TrimLeft(`
services:
  web:
    image: nginx
    privileged: true
    volumes: [./data:/data]
`, "\n")
	report, err := Audit(context.Background(), Options{
		Files: []string{"-", filepath.Join(dir, "override.yml")}, WorkingDir: dir, Env: []string{}, Stdin: strings.NewReader(stdin),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(report.Files, []string{"stdin", "override.yml"}) || report.WorkingDir != dir {
		t.Errorf("files %v in %s, want [stdin override.yml] in %s", report.Files, report.WorkingDir, dir)
	}
	var got []string
	for _, f := range report.Findings {
		if f.RuleID == "privileged" || f.RuleID == "cap-add-dangerous" {
			got = append(got, f.RuleID+"@"+f.Location.String())
		}
	}
	slices.Sort(got)
	if want := []string{"cap-add-dangerous@override.yml:3:15", "privileged@stdin:4:5"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	if _, err := Audit(context.Background(), Options{Files: []string{"-"}, WorkingDir: dir, Env: []string{}, Stdin: strings.NewReader("services: [")}); !errors.Is(err, ErrLoad) {
		t.Errorf("invalid YAML on standard input: err = %v, want ErrLoad", err)
	}
}

func TestAuditPrivilegedAcrossFiles(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		load  []string
		env   []string
		want  []string // rule@file:line, indeterminate marked with ?
	}{
		{
			name: "reset in the override file",
			files: map[string]string{
				"compose.yml": `
services:
  web:
    image: nginx
    privileged: true
`,
				"compose.override.yml": `
services:
  web:
    privileged: !reset null
`},
			want: nil,
		},
		{
			name: "every profile is audited",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
  debug:
    image: busybox
    profiles: [debug]
    privileged: true
`},
			want: []string{"privileged@compose.yml:7"},
		},
		{
			name: "unset variable is indeterminate",
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    privileged: ${PRIV}
`},
			want: []string{"privileged?@compose.yml:4"},
		},
		{
			name: "variable set to true",
			env:  []string{"PRIV=true"},
			files: map[string]string{"compose.yml": `
services:
  web:
    image: nginx
    privileged: ${PRIV}
`},
			want: []string{"privileged@compose.yml:4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := auditProject(t, tt.files, tt.env, tt.load...)
			var got []string
			for _, f := range report.Findings {
				if f.RuleID != "privileged" {
					continue
				}
				mark := ""
				if f.Indeterminate {
					mark = "?"
				}
				got = append(got, f.RuleID+mark+"@"+f.Location.File+":"+strconv.Itoa(f.Location.Line))
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("privileged findings = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAcceptances(t *testing.T) {
	base := `
services:
  web:
    image: nginx
    privileged: true
    x-capprof:
      accept:
%s
`
	tests := []struct {
		name       string
		accept     string
		suppressed []string // rule ids
		extra      []string // acceptance-* findings
		privileged bool     // the privileged finding is still reported
	}{
		{name: "with a reason", accept: `        privileged: "drives GPIO pins; SEC-142"`, suppressed: []string{"privileged"}},
		{name: "without a reason", accept: `        privileged:`, extra: []string{"acceptance-without-reason"}, privileged: true},
		{name: "blank reason", accept: `        privileged: "  "`, extra: []string{"acceptance-without-reason"}, privileged: true},
		{name: "unknown rule", accept: "        privileged: ok, reviewed\n        privilegd: typo", suppressed: []string{"privileged"}, extra: []string{"acceptance-unknown-rule"}},
		{name: "acceptance rules cannot be accepted", accept: "        privileged: ok, reviewed\n        acceptance-unused: no", suppressed: []string{"privileged"}, extra: []string{"acceptance-unknown-rule"}},
		{name: "unused", accept: "        privileged: ok, reviewed\n        cap-add-all: we never add ALL", suppressed: []string{"privileged"}, extra: []string{"acceptance-unused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"compose.yml": strings.Replace(base, "%s", tt.accept, 1)})
			report, err := Audit(context.Background(), Options{WorkingDir: dir, Env: []string{}})
			if err != nil {
				t.Fatal(err)
			}
			var sup, extra []string
			privileged := false
			for _, f := range report.Suppressed {
				sup = append(sup, f.RuleID)
				if f.Accepted == nil || f.Accepted.Reason == "" || f.Accepted.Location.Line == 0 {
					t.Errorf("suppressed %s: acceptance %+v lacks its reason or location", f.RuleID, f.Accepted)
				}
			}
			for _, f := range report.Findings {
				switch {
				case strings.HasPrefix(f.RuleID, "acceptance-"):
					extra = append(extra, f.RuleID)
					if f.Location.Line < 7 {
						t.Errorf("%s located at %s, want the x-capprof entry", f.RuleID, f.Location)
					}
				case f.RuleID == "privileged":
					privileged = true
				}
			}
			if strings.Join(sup, " ") != strings.Join(tt.suppressed, " ") {
				t.Errorf("suppressed = %v, want %v", sup, tt.suppressed)
			}
			if strings.Join(extra, " ") != strings.Join(tt.extra, " ") {
				t.Errorf("acceptance findings = %v, want %v", extra, tt.extra)
			}
			if privileged != tt.privileged {
				t.Errorf("privileged still reported = %v, want %v", privileged, tt.privileged)
			}
		})
	}
}

func TestMalformedAcceptanceIsALoadError(t *testing.T) {
	for name, ext := range map[string]string{
		"not a mapping":   `x-capprof: yes`,
		"unknown key":     "x-capprof:\n      ignore: [privileged]",
		"accept a list":   "x-capprof:\n      accept: [privileged]",
		"reason a number": "x-capprof:\n      accept:\n        privileged: 42",
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"compose.yml": "services:\n  web:\n    image: nginx\n    " + ext + "\n"})
			_, err := Audit(context.Background(), Options{WorkingDir: dir, Env: []string{}})
			if !errors.Is(err, ErrLoad) || !strings.Contains(err.Error(), "services.web.x-capprof") {
				t.Errorf("Audit = %v, want an ErrLoad naming services.web.x-capprof", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("no compose file", func(t *testing.T) {
		_, err := Audit(context.Background(), Options{WorkingDir: t.TempDir(), Env: []string{}})
		if !errors.Is(err, ErrLoad) {
			t.Errorf("Audit = %v, want ErrLoad", err)
		}
	})
	t.Run("invalid YAML", func(t *testing.T) {
		dir := writeFiles(t, map[string]string{"compose.yml": "services:\n  web: [\n"})
		_, err := Audit(context.Background(), Options{WorkingDir: dir, Env: []string{}})
		if !errors.Is(err, ErrLoad) {
			t.Errorf("Audit = %v, want ErrLoad", err)
		}
	})
	t.Run("missing -f file", func(t *testing.T) {
		dir := t.TempDir()
		_, err := Audit(context.Background(), Options{Files: []string{filepath.Join(dir, "nope.yml")}, WorkingDir: dir, Env: []string{}})
		if !errors.Is(err, ErrLoad) {
			t.Errorf("Audit = %v, want ErrLoad", err)
		}
	})
}

// TestProjectDirectoryWithFiles: as with docker compose --project-directory,
// relative paths in the -f files start from the project directory, not the
// file's own.
func TestProjectDirectoryWithFiles(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"conf/compose.yml": `
services:
  web:
    image: nginx
    extends:
      file: common/base.yml
      service: base
`,
		"common/base.yml": `
services:
  base:
    image: nginx
    privileged: true
`})
	report, err := Audit(context.Background(), Options{Files: []string{filepath.Join(dir, "conf/compose.yml")}, WorkingDir: dir, ProjectDirectory: dir, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range report.Findings {
		if f.RuleID == "privileged" {
			got = append(got, f.Location.String())
		}
	}
	if strings.Join(got, " ") != "common/base.yml:4:5" {
		t.Errorf("privileged findings at %v, want common/base.yml:4:5 (extends resolved from the project directory)", got)
	}
	if _, err := Audit(context.Background(), Options{Files: []string{filepath.Join(dir, "conf/compose.yml")}, WorkingDir: dir, Env: []string{}}); !errors.Is(err, ErrLoad) {
		t.Errorf("without the project directory, extends resolves from conf/ and must fail to load: %v", err)
	}
}

// TestProjectFoundInAParent: without -f the compose file is looked for in
// the directory and its parents; its directory is then the project's, so
// its .env and the relative paths in it are read from there, and the files
// extends reads are listed.
func TestProjectFoundInAParent(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		".env": "PRIV=true\n",
		"compose.yaml": `
services:
  web:
    extends: {file: sub/base.yml, service: base}
    privileged: ${PRIV}
`,
		"sub/base.yml": `
services:
  base:
    image: nginx
    cap_add: [SYS_ADMIN]
`,
		"deep/dir/README": "nothing here\n",
	})
	report, err := Audit(context.Background(), Options{WorkingDir: filepath.Join(dir, "deep", "dir"), Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range report.Findings {
		if f.RuleID == "privileged" || f.RuleID == "cap-add-dangerous" {
			got = append(got, f.RuleID+map[bool]string{true: "?"}[f.Indeterminate]+"@"+f.Location.String())
		}
	}
	slices.Sort(got)
	if want := "cap-add-dangerous@sub/base.yml:4:15 privileged@compose.yaml:4:5"; strings.Join(got, " ") != want {
		t.Errorf("findings %v, want %s", got, want)
	}
	if want := []string{"compose.yaml", "sub/base.yml"}; !slices.Equal(report.Files, want) {
		t.Errorf("files %v, want %v", report.Files, want)
	}
}

// TestIncludedFileInterpolatesFromItsEnvFile: an included project's
// variables come from the including project's environment plus the .env
// beside the included file, so a setting made through one is located at
// its item and is not indeterminate.
func TestIncludedFileInterpolatesFromItsEnvFile(t *testing.T) {
	report := auditProject(t, map[string]string{
		"compose.yml": `
include:
  - other/compose.yml
services:
  web:
    image: nginx
`,
		"other/.env": "SOCK=/var/run/docker.sock\n",
		"other/compose.yml": `
services:
  agent:
    image: busybox
    volumes: ["${SOCK}:/var/run/docker.sock"]
`,
	}, nil)
	var got []string
	for _, f := range report.Findings {
		if f.Service == "agent" && (f.RuleID == "engine-socket" || f.Indeterminate) {
			got = append(got, f.RuleID+map[bool]string{true: "?"}[f.Indeterminate]+"@"+f.Location.String())
		}
	}
	if want := "engine-socket@other/compose.yml:4:15"; strings.Join(got, " ") != want {
		t.Errorf("agent findings %v, want %s", got, want)
	}
}
