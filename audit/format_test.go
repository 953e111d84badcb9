package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixtureDir is the project the golden files are the report of.
const fixtureDir = "testdata/project"

// auditFixture audits testdata/project by discovery (compose.yml and its
// compose.override.yml) with no variable set.
func auditFixture(t *testing.T) *Report {
	t.Helper()
	dir, err := filepath.Abs(fixtureDir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Audit(context.Background(), Options{WorkingDir: dir, Env: []string{}})
	if err != nil {
		t.Fatalf("audit %s: %v", fixtureDir, err)
	}
	return r
}

// The three formats of the fixture's report, against testdata/report.*.
// Paths are relative to the package directory, as they would be to a
// repository root; the JSON report's working_dir is made relative too, so
// that no golden file holds a path of this machine.
func TestFormatGolden(t *testing.T) {
	base, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	opts := FormatOptions{BaseDir: base, ToolVersion: "dev"}
	for _, format := range Formats {
		t.Run(string(format), func(t *testing.T) {
			r := auditFixture(t)
			if format == FormatJSON {
				r.WorkingDir = fixtureDir
			}
			var buf bytes.Buffer
			if err := Write(&buf, r, format, opts); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(buf.Bytes(), []byte(base)) {
				t.Errorf("the %s report holds the absolute path %s:\n%s", format, base, buf.String())
			}
			assertGolden(t, "report."+string(format), buf.Bytes())
		})
	}
}

// The fixture's golden files show what they are for: the override file's
// finding, the indeterminate one and the accepted one. Rules added later
// add lines to them, never take these away.
func TestFormatGoldenCoversFixture(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "report.text"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"testdata/project/compose.override.yml:3:5: HIGH privileged [web] privileged: true",
		"testdata/project/compose.yml:31:17: HIGH privileged [worker] indeterminate: privileged holds ${WORKER_PRIVILEGED}",
		"suppressed (accepted risk):\ntestdata/project/compose.yml:23:5: HIGH privileged [gpio] privileged: true\n" +
			"    accepted at testdata/project/compose.yml:26:9: drives the host's GPIO pins through /dev/mem; reviewed in SEC-142",
	} {
		if !bytes.Contains(want, []byte(line)) {
			t.Errorf("testdata/report.text lacks\n%s", line)
		}
	}
}

// assertGolden compares got with testdata/name, or rewrites the file with
// -update. Refreshing golden files is a human decision: -update fails in CI.
func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if ci := os.Getenv("CI"); ci != "" {
			t.Fatalf("-update is set while CI=%q: golden files are refreshed by hand and reviewed, never in CI", ci)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test ./audit -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./audit -update and review the diff)\n%s", path, firstDifference(string(want), string(got)))
	}
}

// firstDifference shows the first line that differs.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "(same lines, different bytes)"
}

// sampleReport has what the fixture cannot show: a finding of each
// severity, one whose line is unknown, one in a file outside the base
// directory and one whose path needs escaping in a URI.
func sampleReport() *Report {
	return &Report{
		WorkingDir: "/src/app",
		Files:      []string{"compose.yml", "dir with space/extra.yml", "/elsewhere/base.yml"},
		Services:   []string{"db", "web"},
		Findings: []Finding{
			{RuleID: "privileged", Severity: High, Service: "web", Location: Location{File: "compose.yml", Line: 4, Column: 17},
				Path: "services.web.privileged", Message: "privileged: true", Why: "root on the host", Fix: "drop it"},
			{RuleID: "acceptance-without-reason", Severity: Medium, Service: "db", Location: Location{File: "dir with space/extra.yml", Line: 9, Column: 9},
				Path: "services.db.x-capprof.accept.privileged", Message: "no reason", Why: "silenced", Fix: "write the reason"},
			{RuleID: "acceptance-unused", Severity: Low, Service: "db", Location: Location{File: "/elsewhere/base.yml"},
				Path: "services.db", Message: "unused", Fix: "remove it"},
			{RuleID: "not-a-rule", Severity: Low, Service: "db", Location: Location{},
				Path: "services.db", Message: "no location"},
		},
		Suppressed: []Finding{
			{RuleID: "privileged", Severity: High, Service: "db", Location: Location{File: "compose.yml", Line: 12, Column: 17},
				Path: "services.db.privileged", Message: "privileged: true", Why: "root on the host", Fix: "drop it",
				Accepted: &Acceptance{RuleID: "privileged", Reason: "needs /dev/mem", Location: Location{File: "compose.yml", Line: 15, Column: 9}}},
		},
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name   string
		report *Report
		opts   FormatOptions
		want   []string // lines, in order, among the output's
		absent []string
	}{
		{
			name:   "paths relative to the working directory",
			report: sampleReport(),
			want: []string{
				"compose.yml:4:17: HIGH privileged [web] privileged: true",
				"    why: root on the host",
				"    fix: drop it",
				"dir with space/extra.yml:9:9: MEDIUM acceptance-without-reason [db] no reason",
				"/elsewhere/base.yml: LOW acceptance-unused [db] unused",
				"    fix: remove it",
				"(unknown file): LOW not-a-rule [db] no location",
				"",
				"suppressed (accepted risk):",
				"compose.yml:12:17: HIGH privileged [db] privileged: true",
				"    accepted at compose.yml:15:9: needs /dev/mem",
				"",
				"4 findings (1 high, 1 medium, 2 low), 1 suppressed, 2 services, 3 files read: compose.yml, dir with space/extra.yml, /elsewhere/base.yml",
			},
			absent: []string{"    why: \n"},
		},
		{
			name:   "paths relative to a base directory above",
			report: sampleReport(),
			opts:   FormatOptions{BaseDir: "/src"},
			want: []string{
				"app/compose.yml:4:17: HIGH privileged [web] privileged: true",
				"    accepted at app/compose.yml:15:9: needs /dev/mem",
				"4 findings (1 high, 1 medium, 2 low), 1 suppressed, 2 services, 3 files read: app/compose.yml, app/dir with space/extra.yml, /elsewhere/base.yml",
			},
		},
		{
			name: "indeterminate",
			report: &Report{Files: []string{"compose.yml"}, Services: []string{"web"}, Findings: []Finding{{
				RuleID: "privileged", Severity: High, Service: "web", Location: Location{File: "compose.yml", Line: 3, Column: 17},
				Message: "privileged holds ${PRIV}, which is not set", Indeterminate: true, Variables: []string{"PRIV"},
			}}},
			want: []string{
				"compose.yml:3:17: HIGH privileged [web] indeterminate: privileged holds ${PRIV}, which is not set",
				"1 finding (1 high, 0 medium, 0 low; 1 indeterminate), 0 suppressed, 1 service, 1 file read: compose.yml",
			},
		},
		{
			name:   "clean",
			report: &Report{Files: []string{"compose.yml"}, Services: []string{"web"}},
			want:   []string{"0 findings (0 high, 0 medium, 0 low), 0 suppressed, 1 service, 1 file read: compose.yml"},
			absent: []string{"suppressed (accepted risk)", "\n\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.report, FormatText, tt.opts); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if !strings.HasSuffix(out, "\n") {
				t.Errorf("output does not end with a newline: %q", out)
			}
			rest := out
			for _, line := range tt.want {
				i := strings.Index(rest, line+"\n")
				if i < 0 || (i > 0 && rest[i-1] != '\n') {
					t.Fatalf("missing line, or out of order: %q\nin:\n%s", line, out)
				}
				rest = rest[i+len(line)+1:]
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("output holds %q:\n%s", s, out)
				}
			}
		})
	}
}

// The JSON report always has lists, even empty ones, so that a consumer
// never reads null; it is the Report and reads back as it.
func TestJSON(t *testing.T) {
	tests := []struct {
		name   string
		report *Report
	}{
		{"empty", &Report{WorkingDir: "/src"}},
		{"sample", sampleReport()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.report, FormatJSON, FormatOptions{BaseDir: "/elsewhere"}); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(buf.Bytes(), []byte("null")) {
				t.Errorf("JSON holds null:\n%s", buf.String())
			}
			var back Report
			if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if len(back.Findings) != len(tt.report.Findings) || len(back.Suppressed) != len(tt.report.Suppressed) {
				t.Errorf("read back %d findings and %d suppressed, want %d and %d", len(back.Findings), len(back.Suppressed), len(tt.report.Findings), len(tt.report.Suppressed))
			}
			for i, f := range back.Findings {
				if f.Location != tt.report.Findings[i].Location || f.Severity != tt.report.Findings[i].Severity {
					t.Errorf("finding %d read back as %+v, want %+v (JSON is the report as it is, not rebased)", i, f, tt.report.Findings[i])
				}
			}
		})
	}
}

// compileSARIFSchema compiles the OASIS SARIF 2.1.0 schema committed in
// testdata (see testdata/README.md), with formats such as uri checked.
func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := c.Compile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatalf("compile the SARIF schema: %v", err)
	}
	return sch
}

// Every SARIF log capprof writes is valid SARIF 2.1.0.
func TestSARIFValidatesAgainstSchema(t *testing.T) {
	sch := compileSARIFSchema(t)
	tests := []struct {
		name  string
		write func(w *bytes.Buffer) error
	}{
		{"fixture", func(w *bytes.Buffer) error {
			return Write(w, auditFixture(t), FormatSARIF, FormatOptions{BaseDir: ".", ToolVersion: "v1.2.3"})
		}},
		{"sample", func(w *bytes.Buffer) error {
			return Write(w, sampleReport(), FormatSARIF, FormatOptions{BaseDir: "/src"})
		}},
		{"empty report", func(w *bytes.Buffer) error { return Write(w, &Report{}, FormatSARIF, FormatOptions{}) }},
		{"rules only", func(w *bytes.Buffer) error { return WriteRules(w, Rules(), FormatSARIF) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(&buf); err != nil {
				t.Fatal(err)
			}
			doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(doc); err != nil {
				t.Errorf("not valid SARIF 2.1.0: %v\n%s", err, buf.String())
			}
		})
	}
}

// The schema check is not vacuous: it refuses what code scanning would.
func TestSARIFSchemaRefusesInvalid(t *testing.T) {
	sch := compileSARIFSchema(t)
	tests := []struct {
		name string
		doc  string
	}{
		{"wrong version", `{"version": "2.0.0", "runs": []}`},
		{"tool without name", `{"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}`},
		{"line 0", `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"},
			"locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.yml"}, "region": {"startLine": 0}}}]}]}]}`},
		{"unknown level", `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "m"}, "level": "high"}]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := jsonschema.UnmarshalJSON(strings.NewReader(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if sch.Validate(doc) == nil {
				t.Errorf("the schema accepts %s", tt.doc)
			}
		})
	}
}

// decodeSARIF writes the report as SARIF and reads it back.
func decodeSARIF(t *testing.T, r *Report, opts FormatOptions) sarifLog {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, r, FormatSARIF, opts); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	return log
}

// What GitHub code scanning reads from each result: rule, level, the
// place as a URI relative to the checkout, a line of at least 1, the
// suppression with its reason.
func TestSARIFResults(t *testing.T) {
	log := decodeSARIF(t, sampleReport(), FormatOptions{BaseDir: "/src", ToolVersion: "v1.0.0"})
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(log.Runs))
	}
	run := log.Runs[0]
	if d := run.Tool.Driver; d.Name != "capprof" || d.Version != "v1.0.0" || len(d.Rules) != len(Rules()) {
		t.Errorf("driver %s %s with %d rules, want capprof v1.0.0 with %d", d.Name, d.Version, len(d.Rules), len(Rules()))
	}
	tests := []struct {
		ruleID, level, uri, baseID string
		line, column               int
		suppressed                 string
	}{
		{"privileged", "error", "app/compose.yml", "%SRCROOT%", 4, 17, ""},
		{"acceptance-without-reason", "warning", "app/dir%20with%20space/extra.yml", "%SRCROOT%", 9, 9, ""},
		{"acceptance-unused", "note", "file:///elsewhere/base.yml", "", 1, 0, ""},
		// No location: the project's first file, line 1.
		{"not-a-rule", "note", "app/compose.yml", "%SRCROOT%", 1, 0, ""},
		{"privileged", "error", "app/compose.yml", "%SRCROOT%", 12, 17, "needs /dev/mem"},
	}
	if len(run.Results) != len(tests) {
		t.Fatalf("%d results, want %d", len(run.Results), len(tests))
	}
	for i, tt := range tests {
		t.Run(strconv.Itoa(i)+"/"+tt.ruleID, func(t *testing.T) {
			res := run.Results[i]
			if res.RuleID != tt.ruleID || res.Level != tt.level {
				t.Errorf("rule %s level %s, want %s %s", res.RuleID, res.Level, tt.ruleID, tt.level)
			}
			if res.RuleIndex != nil && run.Tool.Driver.Rules[*res.RuleIndex].ID != res.RuleID {
				t.Errorf("ruleIndex %d is rule %s, not %s", *res.RuleIndex, run.Tool.Driver.Rules[*res.RuleIndex].ID, res.RuleID)
			}
			if _, known := RuleByID(tt.ruleID); known != (res.RuleIndex != nil) {
				t.Errorf("ruleIndex %v for a rule that is known: %v", res.RuleIndex, known)
			}
			loc := res.Locations[0].PhysicalLocation
			if loc.ArtifactLocation.URI != tt.uri || loc.ArtifactLocation.URIBaseID != tt.baseID {
				t.Errorf("artifact %+v, want uri %q base %q", loc.ArtifactLocation, tt.uri, tt.baseID)
			}
			if loc.Region.StartLine != tt.line || loc.Region.StartColumn != tt.column {
				t.Errorf("region %+v, want line %d column %d", loc.Region, tt.line, tt.column)
			}
			switch {
			case tt.suppressed == "" && len(res.Suppressions) > 0:
				t.Errorf("suppressed: %+v", res.Suppressions)
			case tt.suppressed != "" && (len(res.Suppressions) != 1 || res.Suppressions[0].Kind != "inSource" || res.Suppressions[0].Justification != tt.suppressed):
				t.Errorf("suppressions %+v, want one inSource with justification %q", res.Suppressions, tt.suppressed)
			}
			if res.PartialFingerprints[fingerprintKey] == "" {
				t.Error("no partial fingerprint")
			}
		})
	}
}

func TestSARIFRules(t *testing.T) {
	log := decodeSARIF(t, &Report{}, FormatOptions{})
	rules := log.Runs[0].Tool.Driver.Rules
	want := map[Severity][2]string{High: {"error", "9.0"}, Medium: {"warning", "6.0"}, Low: {"note", "3.0"}}
	for i, r := range Rules() {
		t.Run(r.ID, func(t *testing.T) {
			got := rules[i]
			if got.ID != r.ID || got.ShortDescription.Text != r.Title || got.FullDescription.Text != r.Why || got.Help.Text != r.Fix {
				t.Errorf("rule %d is %+v, want %s described by its title, why and fix", i, got, r.ID)
			}
			if w := want[r.Severity]; got.DefaultConfiguration.Level != w[0] || got.Properties.SecuritySeverity != w[1] {
				t.Errorf("%s: level %s security-severity %s, want %s %s", r.Severity, got.DefaultConfiguration.Level, got.Properties.SecuritySeverity, w[0], w[1])
			}
			if got.Name == "" || strings.ContainsAny(got.Name, "- ") {
				t.Errorf("name %q", got.Name)
			}
		})
	}
	if got := ruleName("cap-add-all"); got != "CapAddAll" {
		t.Errorf("ruleName(cap-add-all) = %q", got)
	}
}

// A fingerprint follows the setting, not its line: an edit above it keeps
// the alert, another service or setting is another alert.
func TestSARIFFingerprint(t *testing.T) {
	base := Finding{RuleID: "privileged", Severity: High, Service: "web", Path: "services.web.privileged", Location: Location{File: "compose.yml", Line: 4, Column: 17}}
	fp := func(fs ...Finding) []string {
		log := decodeSARIF(t, &Report{Files: []string{"compose.yml"}, Findings: fs}, FormatOptions{})
		var out []string
		for _, r := range log.Runs[0].Results {
			out = append(out, r.PartialFingerprints[fingerprintKey])
		}
		return out
	}
	want := fp(base)[0]
	moved := base
	moved.Location = Location{File: "compose.override.yml", Line: 40, Column: 5}
	other := base
	other.Service = "db"
	tests := []struct {
		name string
		f    Finding
		same bool
	}{
		{"moved lines and file", moved, true},
		{"another service", other, false},
		{"another rule", Finding{RuleID: "host-pid", Service: "web", Path: "services.web.privileged"}, false},
		{"another path", Finding{RuleID: "privileged", Service: "web", Path: "services.web.cap_add[0]"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fp(tt.f)[0]; (got == want) != tt.same {
				t.Errorf("fingerprint %s, base's %s: same = %v, want %v", got, want, got == want, tt.same)
			}
		})
	}
	if twice := fp(base, moved); twice[0] == twice[1] {
		t.Errorf("two findings of one setting share the fingerprint %s", twice[0])
	}
}

// A list item's fingerprint is its identity (a volume's target, a sysctl's
// name), not its position: an item inserted before it, or another item of
// the same rule beside it, keeps every alert where it was.
func TestSARIFFingerprintFollowsTheItem(t *testing.T) {
	// fingerprints audits the compose file and returns each result's
	// fingerprint by its rule and the first word of its message after the
	// setting's key (the item it is about).
	fingerprints := func(compose string) map[string]string {
		t.Helper()
		report := auditProject(t, map[string]string{"compose.yml": compose}, nil)
		log := decodeSARIF(t, report, FormatOptions{BaseDir: report.WorkingDir})
		out := map[string]string{}
		for _, r := range log.Runs[0].Results {
			_, item, _ := strings.Cut(r.Message.Text, ": ")
			item, _, _ = strings.Cut(item, " ")
			item = strings.TrimSuffix(item, ":")
			out[r.RuleID+" "+item] = r.PartialFingerprints[fingerprintKey]
		}
		return out
	}
	tests := []struct {
		name         string
		before, edit string
		same         []string // rule and item whose fingerprint must not change
	}{
		{
			name: "a volume inserted before another",
			before: `
services:
  app:
    image: busybox
    volumes:
      - /etc:/e
`,
			edit: `
services:
  app:
    image: busybox
    volumes:
      - data:/data
      - /root:/r
      - /etc:/e
volumes: {data: {}}
`,
			same: []string{"host-path /etc"},
		},
		{
			name: "a sysctl added beside another",
			before: `
services:
  app:
    image: busybox
    sysctls:
      kernel.modprobe: /x
`,
			edit: `
services:
  app:
    image: busybox
    sysctls:
      kernel.core_pattern: "|/x"
      kernel.modprobe: /x
`,
			same: []string{"sysctl-risky kernel.modprobe=/x"},
		},
		{
			name: "a capability inserted before another",
			before: `
services:
  app:
    image: busybox
    cap_add: [SYS_ADMIN]
`,
			edit: `
services:
  app:
    image: busybox
    cap_add: [NET_ADMIN, SYS_PTRACE, SYS_ADMIN]
`,
			same: []string{"cap-add-dangerous SYS_ADMIN"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, edit := fingerprints(tt.before), fingerprints(tt.edit)
			for _, k := range tt.same {
				if before[k] == "" || before[k] != edit[k] {
					t.Errorf("%s: fingerprint %q before the edit, %q after", k, before[k], edit[k])
				}
			}
			seen := map[string]string{}
			for k, fp := range edit {
				if other, dup := seen[fp]; dup {
					t.Errorf("%s and %s share the fingerprint %s", k, other, fp)
				}
				seen[fp] = k
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"text", FormatText, false},
		{"JSON", FormatJSON, false},
		{" sarif ", FormatSARIF, false},
		{"xml", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFormat(tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("ParseFormat(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// --list-rules lists every rule: in text its id, severity and title on a
// line, in JSON with why and fix.
func TestWriteRules(t *testing.T) {
	var text bytes.Buffer
	if err := WriteRules(&text, Rules(), FormatText); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(text.String(), "\n"), "\n")
	if len(lines) != len(Rules()) {
		t.Fatalf("%d lines for %d rules:\n%s", len(lines), len(Rules()), text.String())
	}
	for i, r := range Rules() {
		if f := strings.Fields(lines[i]); len(f) < 3 || f[0] != r.ID || f[1] != r.Severity.String() || !strings.HasSuffix(lines[i], "  "+r.Title) {
			t.Errorf("line %q, want %s, %s, %s", lines[i], r.ID, r.Severity, r.Title)
		}
	}
	var js bytes.Buffer
	if err := WriteRules(&js, Rules(), FormatJSON); err != nil {
		t.Fatal(err)
	}
	var list []struct{ ID, Severity, Title, Why, Fix string }
	if err := json.Unmarshal(js.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != len(Rules()) || list[0].ID != Rules()[0].ID || list[0].Severity != Rules()[0].Severity.String() || list[0].Why == "" {
		t.Errorf("JSON rules %+v", list)
	}
}
