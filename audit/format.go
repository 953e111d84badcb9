package audit

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
)

// Format is a way to write a report: text for people, JSON for scripts,
// SARIF for code-scanning services.
type Format string

// The report formats.
const (
	FormatText  Format = "text"
	FormatJSON  Format = "json"
	FormatSARIF Format = "sarif"
)

// Formats lists the report formats, the default first.
var Formats = []Format{FormatText, FormatJSON, FormatSARIF}

// ParseFormat reads text, json or sarif, in any case.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range Formats {
		if f == known {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown report format %q: want text, json or sarif", s)
}

// FormatOptions say how a report is written.
type FormatOptions struct {
	// BaseDir is what text and SARIF output give file paths relative to:
	// the directory the audit runs in, so that file:line opens from there
	// and SARIF locations resolve against the repository a CI job checked
	// out (the project directory can be a folder of it). Empty: the paths
	// stay as in the report, relative to its WorkingDir. JSON output is
	// the report as it is.
	BaseDir string
	// ToolVersion is capprof's version, for SARIF's tool.driver.version;
	// empty: "dev".
	ToolVersion string
}

// Write writes the report in the format.
func Write(w io.Writer, r *Report, format Format, opts FormatOptions) error {
	switch format {
	case FormatText:
		return writeText(w, r, opts)
	case FormatJSON:
		return writeJSON(w, jsonReport(r))
	case FormatSARIF:
		return writeJSON(w, sarifFromReport(r, Rules(), opts))
	}
	return fmt.Errorf("write report: unknown format %q", format)
}

// ruleInfo is a rule as --list-rules writes it in JSON.
type ruleInfo struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Title    string   `json:"title"`
	Why      string   `json:"why"`
	Fix      string   `json:"fix"`
}

// WriteRules lists the rules: in text one line each with id, severity and
// title; in JSON a list with why and fix too; in SARIF a log whose tool
// describes them and that has no results.
func WriteRules(w io.Writer, rules []Rule, format Format) error {
	switch format {
	case FormatText:
		return writeRulesText(w, rules)
	case FormatJSON:
		list := make([]ruleInfo, len(rules))
		for i, r := range rules {
			list[i] = ruleInfo{ID: r.ID, Severity: r.Severity, Title: r.Title, Why: r.Why, Fix: r.Fix}
		}
		return writeJSON(w, list)
	case FormatSARIF:
		return writeJSON(w, sarifFromReport(&Report{}, rules, FormatOptions{}))
	}
	return fmt.Errorf("write rules: unknown format %q", format)
}

// jsonReport returns the report with empty lists where it has none, so
// that a consumer always finds a list.
func jsonReport(r *Report) *Report {
	out := *r
	for _, l := range []*[]string{&out.Files, &out.Services} {
		if *l == nil {
			*l = []string{}
		}
	}
	for _, l := range []*[]Finding{&out.Findings, &out.Suppressed} {
		if *l == nil {
			*l = []Finding{}
		}
	}
	return &out
}

// writeJSON writes v indented, with <, > and & as they are: the output is
// read by people and tools, not embedded in HTML.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// displayPath gives a report's file path relative to opts.BaseDir when it
// lies below it, and absolute when not; without a BaseDir, as it is.
func (opts FormatOptions) displayPath(r *Report, file string) string {
	if file == "" || opts.BaseDir == "" {
		return file
	}
	abs := file
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(r.WorkingDir, file)
	}
	base, err := filepath.Abs(opts.BaseDir)
	if err != nil {
		return file
	}
	if abs, err = filepath.Abs(abs); err != nil {
		return file
	}
	rel, err := filepath.Rel(base, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return abs
	}
	return rel
}

// fileURI turns a display path into a URI reference: relative paths with
// forward slashes and escaped as a URI path needs, absolute ones as a
// file:// URI.
func fileURI(path string) (uri string, relative bool) {
	if filepath.IsAbs(path) {
		return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String(), false
	}
	// String, not EscapedPath: a colon in the first segment gets ./ before it.
	return (&url.URL{Path: filepath.ToSlash(path)}).String(), true
}
