package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// The extension that holds a service's accepted risks:
//
//	x-capprof:
//	  accept:
//	    privileged: "drives the host's GPIO pins; reviewed in SEC-142"
const extensionKey = "x-capprof"

// Rules about acceptances themselves; they cannot be accepted.
const (
	ruleAcceptanceWithoutReason = "acceptance-without-reason"
	ruleAcceptanceUnknownRule   = "acceptance-unknown-rule"
	ruleAcceptanceUnused        = "acceptance-unused"
)

// acceptanceRules describe the findings about x-capprof entries. They have
// no Check: acceptances makes their findings, after the other rules ran.
var acceptanceRules = []Rule{
	{
		ID:       ruleAcceptanceWithoutReason,
		Severity: Medium,
		Title:    "accepted risk without a reason",
		Why:      "an accepted risk nobody justified is a finding silenced, not a decision: the reason is the review's record",
		Fix:      "write why the risk is accepted, and where it was reviewed, as the entry's value",
	},
	{
		ID:       ruleAcceptanceUnknownRule,
		Severity: Medium,
		Title:    "accepted risk names no rule",
		Why:      "a misspelt rule id accepts nothing, so the finding it meant stays and the entry misleads its readers",
		Fix:      "use a rule id that capprof audit --list-rules lists",
	},
	{
		ID:       ruleAcceptanceUnused,
		Severity: Low,
		Title:    "accepted risk that no finding needs",
		Why:      "a stale acceptance would silently accept the risk again if the setting came back",
		Fix:      "remove the entry from x-capprof.accept",
	},
}

// acceptances reads the service's x-capprof entries. An entry naming no
// rule comes back as a finding; a malformed extension is a load error,
// with its YAML path.
func (s *sources) acceptances(svc *types.ServiceConfig) ([]Acceptance, []Finding, error) {
	raw, ok := svc.Extensions[extensionKey]
	if !ok || raw == nil {
		return nil, nil, nil
	}
	path := "services." + svc.Name + "." + extensionKey
	ext, ok := raw.(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s: want a mapping with the key accept, got %s", ErrLoad, path, yamlKind(raw))
	}
	for k := range ext {
		if k != "accept" {
			return nil, nil, fmt.Errorf("%w: %s: unknown key %q (only accept: a mapping of rule id to reason)", ErrLoad, path, k)
		}
	}
	accept, ok := ext["accept"].(map[string]any)
	if !ok {
		if ext["accept"] == nil {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("%w: %s.accept: want a mapping of rule id to reason, got %s", ErrLoad, path, yamlKind(ext["accept"]))
	}
	ids := make([]string, 0, len(accept))
	for id := range accept {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var out []Acceptance
	var findings []Finding
	for _, id := range ids {
		loc := s.locate(svc.Name, extensionKey+".accept", func(it Item) bool { return it.Key() == id })
		var reason string
		switch v := accept[id].(type) {
		case nil:
		case string:
			reason = strings.TrimSpace(v)
		default:
			return nil, nil, fmt.Errorf("%w: %s.accept.%s: want the reason as a string, got %s", ErrLoad, path, id, yamlKind(v))
		}
		a := Acceptance{RuleID: id, Reason: reason, Location: loc}
		rule, known := RuleByID(id)
		switch {
		case !known || strings.HasPrefix(id, "acceptance-"):
			msg := fmt.Sprintf("x-capprof accepts %q, which is no rule: nothing is accepted (capprof audit --list-rules lists them)", id)
			if known {
				msg = fmt.Sprintf("x-capprof accepts %q: findings about acceptances cannot be accepted", id)
			}
			findings = append(findings, acceptanceFinding(ruleAcceptanceUnknownRule, svc.Name, id, loc, msg))
		case reason == "":
			findings = append(findings, acceptanceFinding(ruleAcceptanceWithoutReason, svc.Name, id, loc,
				fmt.Sprintf("x-capprof accepts %q (%s) without a reason: the finding stands until the reason is written", id, rule.Title)))
		default:
			out = append(out, a)
		}
	}
	return out, findings, nil
}

// applyAcceptances splits findings into kept and suppressed, and reports
// each acceptance that matched no finding of the service.
func applyAcceptances(service string, findings []Finding, accepted []Acceptance) (kept, suppressed, unused []Finding) {
	used := make([]bool, len(accepted))
	for _, f := range findings {
		i := slices.IndexFunc(accepted, func(a Acceptance) bool { return a.RuleID == f.RuleID })
		if i < 0 {
			kept = append(kept, f)
			continue
		}
		used[i] = true
		a := accepted[i]
		f.Accepted = &a
		suppressed = append(suppressed, f)
	}
	for i, a := range accepted {
		if !used[i] {
			unused = append(unused, acceptanceFinding(ruleAcceptanceUnused, service, a.RuleID, a.Location,
				fmt.Sprintf("x-capprof accepts %q, but the rule does not fire on this service: remove the acceptance", a.RuleID)))
		}
	}
	return kept, suppressed, unused
}

func acceptanceFinding(ruleID, service, accepted string, loc Location, msg string) Finding {
	f := Finding{
		RuleID:   ruleID,
		Severity: Low,
		Service:  service,
		Location: loc,
		Path:     "services." + service + "." + extensionKey + ".accept." + accepted,
		Message:  msg,
	}
	if r, ok := RuleByID(ruleID); ok {
		f.Severity, f.Why, f.Fix = r.Severity, r.Why, r.Fix
	}
	return f
}

// yamlKind names the kind of a decoded YAML value the way the compose file
// spells it, for errors.
func yamlKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64, float64:
		return "a number"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("a %T", v)
}
