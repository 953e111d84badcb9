package audit

import (
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Severity ranks a finding. The zero value, None, is below every finding:
// as a threshold it means that no finding fails the audit.
type Severity int

// Severities, lowest first.
const (
	None Severity = iota
	Low
	Medium
	High
)

func (s Severity) String() string {
	switch s {
	case None:
		return "none"
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText writes the severity's name, for JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ParseSeverity reads high, medium, low or none, in any case.
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "high":
		return High, nil
	case "medium":
		return Medium, nil
	case "low":
		return Low, nil
	case "none":
		return None, nil
	}
	return None, fmt.Errorf("%w %q: want high, medium, low or none", ErrSeverity, s)
}

// Location is a place in a compose file. Line and Column count from 1; a
// zero Line means the file is known but not the line.
type Location struct {
	// File is the compose file's path, relative to the report's WorkingDir
	// when it lies below it.
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

func (l Location) String() string {
	switch {
	case l.Line == 0:
		return l.File
	case l.Column == 0:
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Column)
}

// Finding is one rule firing on one service.
type Finding struct {
	// RuleID is the rule's stable identifier, such as "privileged".
	RuleID   string   `json:"rule"`
	Severity Severity `json:"severity"`
	// Service is the compose service the finding is about.
	Service string `json:"service"`
	// Location is where the setting was made: the file and line of the key
	// or list item, or of the service itself when a setting is missing.
	Location Location `json:"location"`
	// Path is the setting's YAML path, such as services.web.cap_add[1].
	Path string `json:"path"`
	// Subject names the item within the setting whatever its position in
	// the list: a volume's target, a capability, a sysctl's name.
	Subject string `json:"subject,omitempty"`
	// Message says what was found, in one line.
	Message string `json:"message"`
	// Why says in one line what the setting gives an attacker inside.
	Why string `json:"why"`
	// Fix says what to do instead.
	Fix string `json:"fix"`
	// Indeterminate is set when the setting holds a variable that is not
	// set, so the audit cannot tell whether the rule holds; it counts as a
	// finding, not as a pass.
	Indeterminate bool `json:"indeterminate,omitempty"`
	// Variables are the unset variables of an indeterminate finding.
	Variables []string `json:"variables,omitempty"`
	// Accepted is the x-capprof entry that accepts the risk, for findings
	// reported as suppressed.
	Accepted *Acceptance `json:"accepted,omitempty"`
}

// Acceptance is an accepted risk: the x-capprof entry of a service that
// names a rule and says why.
type Acceptance struct {
	RuleID   string   `json:"rule"`
	Reason   string   `json:"reason"`
	Location Location `json:"location"`
}

// Rule is one check over a merged service.
type Rule struct {
	// ID is stable: suppressions and SARIF results refer to it.
	ID       string
	Severity Severity
	// Title names the rule in a few words.
	Title string
	// Why says what the setting gives an attacker, in one line.
	Why string
	// Fix says what to do instead, in one line.
	Fix string
	// Fields are the service keys the rule reads (top-level keys: "deploy"
	// for deploy.resources.limits). An unset variable in one of them makes
	// the rule indeterminate on that service unless it fires anyway.
	Fields []string
	// FiresOnAbsence marks rules that fire when a setting is missing (no
	// cap_drop: [ALL]): an unset variable in one of Fields makes them
	// indeterminate even though they fired, since the variable may hold
	// the setting.
	FiresOnAbsence bool
	// dependsOn tells whether an unset variable in one of Fields can
	// change whether the rule fires, given every unset scalar under that
	// key; nil: any can. A later security_opt item that sets the same
	// option decides it whatever the variable holds.
	dependsOn func(svc *types.ServiceConfig, u unsetKey, all []unsetKey) bool
	// Check returns where the rule fires in the service; the project is
	// what the service refers to (named volumes, secrets, configs) and its
	// directory.
	Check func(svc *types.ServiceConfig, project *types.Project) []Hit
}

// Hit is one place where a rule fires. Its location is found in the YAML
// sources: Key is the service key (dotted for nested keys, such as
// "deploy.resources.limits.memory"), Item selects a list item or mapping
// entry under it. With Item nil the key itself is the place; when the key
// is absent from every file (a missing setting), the service is.
type Hit struct {
	Key  string
	Item func(Item) bool
	// Index is the item's position in the merged list, for the YAML path;
	// -1 when there is none.
	Index int
	// Subject names the item within Key whatever its position: a volume's
	// target, a capability, a sysctl's or security option's name, a port.
	// With the rule, the service and Key it identifies the finding across
	// edits (the SARIF fingerprint); "" for a key that is no list.
	Subject string
	// Message says what was found, in one line.
	Message string
	// Severity overrides the rule's when not None (a block device is worse
	// than a serial port).
	Severity Severity
}

// Item is a list item or mapping entry in a compose file, with its scalars
// interpolated the way the project was.
type Item interface {
	// Key is the entry's key when the field is a mapping ("" in a list).
	Key() string
	// Scalar is the item's text when it is a scalar.
	Scalar() (string, bool)
	// Field is the text of a scalar under key when the item is a mapping.
	Field(key string) (string, bool)
}
