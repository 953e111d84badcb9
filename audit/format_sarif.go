package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
)

// SARIF 2.1.0 (OASIS), the format code-scanning services such as GitHub's
// read. Only the fields the report fills are declared.
const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	// sarifSrcRoot is the conventional base of relative artifact URIs: the
	// checkout's root, which the upload resolves them against.
	sarifSrcRoot = "%SRCROOT%"
	// fingerprintKey names capprof's partial fingerprint; the version
	// changes if what goes into the hash does.
	fingerprintKey = "capprof/v2"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool sarifTool `json:"tool"`
	// ColumnKind says how startColumn counts: yaml.v3 counts characters.
	ColumnKind string        `json:"columnKind"`
	Results    []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name    string      `json:"name"`
	Version string      `json:"version"`
	Rules   []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string              `json:"id"`
	Name                 string              `json:"name"`
	ShortDescription     sarifText           `json:"shortDescription"`
	FullDescription      sarifText           `json:"fullDescription"`
	Help                 sarifText           `json:"help"`
	DefaultConfiguration sarifConfiguration  `json:"defaultConfiguration"`
	Properties           sarifRuleProperties `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifConfiguration struct {
	Level string `json:"level"`
}

// sarifRuleProperties carry what GitHub reads beyond the standard: the tag
// that files the alerts under security, the numeric severity it ranks them
// by, and how often the rule is right.
type sarifRuleProperties struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           *int               `json:"ruleIndex,omitempty"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
	Properties          sarifResultProps   `json:"properties"`
}

type sarifResultProps struct {
	Service       string   `json:"service"`
	Path          string   `json:"path"`
	Indeterminate bool     `json:"indeterminate,omitempty"`
	Variables     []string `json:"variables,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
}

type sarifPhysicalLocation struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           sarifRegion           `json:"region"`
}

type sarifArtifactLocation struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

// sarifSuppression is an accepted risk: in source, since x-capprof sits
// in the compose file beside the setting.
type sarifSuppression struct {
	Kind          string         `json:"kind"`
	Status        string         `json:"status"`
	Justification string         `json:"justification"`
	Location      *sarifLocation `json:"location,omitempty"`
}

// sarifFromReport builds a log of one run: every rule, then the findings
// and, marked suppressed with their reasons, the accepted ones.
func sarifFromReport(r *Report, rules []Rule, opts FormatOptions) *sarifLog {
	version := opts.ToolVersion
	if version == "" {
		version = "dev"
	}
	driver := sarifDriver{Name: "capprof", Version: version, Rules: make([]sarifRule, len(rules))}
	index := make(map[string]int, len(rules))
	for i, rule := range rules {
		index[rule.ID] = i
		driver.Rules[i] = sarifRule{
			ID:                   rule.ID,
			Name:                 ruleName(rule.ID),
			ShortDescription:     sarifText{rule.Title},
			FullDescription:      sarifText{rule.Why},
			Help:                 sarifText{rule.Fix},
			DefaultConfiguration: sarifConfiguration{sarifLevel(rule.Severity)},
			Properties: sarifRuleProperties{
				Tags:             []string{"security"},
				SecuritySeverity: securitySeverity(rule.Severity),
				Precision:        "high",
			},
		}
	}
	results := make([]sarifResult, 0, len(r.Findings)+len(r.Suppressed))
	seen := map[string]int{}
	for _, f := range append(append([]Finding(nil), r.Findings...), r.Suppressed...) {
		res := sarifResult{
			RuleID:              f.RuleID,
			Level:               sarifLevel(f.Severity),
			Message:             sarifText{sarifMessage(f)},
			Locations:           []sarifLocation{sarifLocationOf(r, f.Location, opts)},
			PartialFingerprints: map[string]string{fingerprintKey: fingerprint(f, seen)},
			Properties: sarifResultProps{
				Service:       f.Service,
				Path:          f.Path,
				Indeterminate: f.Indeterminate,
				Variables:     f.Variables,
			},
		}
		if i, ok := index[f.RuleID]; ok {
			res.RuleIndex = &i
		}
		if a := f.Accepted; a != nil {
			loc := sarifLocationOf(r, a.Location, opts)
			res.Suppressions = []sarifSuppression{{Kind: "inSource", Status: "accepted", Justification: a.Reason, Location: &loc}}
		}
		results = append(results, res)
	}
	return &sarifLog{
		Schema:  sarifSchema,
		Version: sarifVersion,
		Runs:    []sarifRun{{Tool: sarifTool{Driver: driver}, ColumnKind: "unicodeCodePoints", Results: results}},
	}
}

// sarifLocationOf places a result; a code-scanning alert needs a file and
// a line, so an unknown file is the project's first and an unknown line 1.
func sarifLocationOf(r *Report, l Location, opts FormatOptions) sarifLocation {
	file := l.File
	if file == "" && len(r.Files) > 0 {
		file = r.Files[0]
	}
	uri, relative := fileURI(opts.displayPath(r, file))
	art := sarifArtifactLocation{URI: uri}
	if relative {
		art.URIBaseID = sarifSrcRoot
	}
	region := sarifRegion{StartLine: l.Line, StartColumn: l.Column}
	if region.StartLine < 1 {
		region = sarifRegion{StartLine: 1}
	}
	return sarifLocation{PhysicalLocation: sarifPhysicalLocation{ArtifactLocation: art, Region: region}}
}

func sarifMessage(f Finding) string {
	msg := f.Message
	if f.Indeterminate {
		msg = "indeterminate: " + msg
	}
	if f.Fix != "" {
		msg += ". Fix: " + f.Fix
	}
	return msg
}

// fingerprint identifies a finding across commits by its rule, service,
// setting and subject, not its line nor its position in a list: moving a
// setting, editing the lines above it or adding a volume before another
// must not close the alert and open a new one. The setting is the YAML
// path without list indexes; the subject names the item (a volume's
// target, a capability, a sysctl). Findings that still share all four are
// told apart by their order in the report.
func fingerprint(f Finding, seen map[string]int) string {
	key := f.RuleID + "\x00" + f.Service + "\x00" + listIndex.ReplaceAllString(f.Path, "") + "\x00" + f.Subject
	seen[key]++
	if n := seen[key]; n > 1 {
		key += "\x00" + strconv.Itoa(n)
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// listIndex is a list index in a YAML path: cap_add[1].
var listIndex = regexp.MustCompile(`\[[0-9]+\]`)

// sarifLevel maps severities to SARIF's levels, high to error.
func sarifLevel(s Severity) string {
	switch s {
	case High:
		return "error"
	case Medium:
		return "warning"
	case Low:
		return "note"
	}
	return "none"
}

// securitySeverity is GitHub's numeric scale (0.1–3.9 low, 4.0–6.9
// medium, 7.0–8.9 high, 9.0 and over critical): a high finding here is
// root on the host, which GitHub calls critical.
func securitySeverity(s Severity) string {
	switch s {
	case High:
		return "9.0"
	case Medium:
		return "6.0"
	case Low:
		return "3.0"
	}
	return "0.0"
}

// ruleName spells a rule id the way SARIF names rules: cap-add-all is
// CapAddAll.
func ruleName(id string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(id, "-") {
		if part == "" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}
