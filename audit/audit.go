package audit

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// Audit loads the project and runs every rule over every service, all
// profiles included. An error means the project could not be loaded (it
// wraps ErrLoad); findings are not errors.
func Audit(ctx context.Context, opts Options) (*Report, error) {
	project, stdin, err := load(ctx, opts)
	if err != nil {
		return nil, err
	}
	src, err := readSources(project, stdin)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLoad, err)
	}
	report := &Report{WorkingDir: project.WorkingDir}
	names := project.ServiceNames()
	slices.Sort(names)
	report.Services = names
	for _, name := range names {
		svc := project.Services[name]
		findings := checkService(&svc, project, src)
		accepted, extra, err := src.acceptances(&svc)
		if err != nil {
			return nil, err
		}
		kept, suppressed, more := applyAcceptances(name, findings, accepted)
		report.Findings = append(report.Findings, kept...)
		report.Findings = append(report.Findings, extra...)
		report.Findings = append(report.Findings, more...)
		report.Suppressed = append(report.Suppressed, suppressed...)
	}
	// The files extends names are read while the rules are located, so
	// the list is complete only now.
	report.Files = src.fileNames()
	sortFindings(report.Findings)
	sortFindings(report.Suppressed)
	return report, nil
}

// checkService runs every rule over one service. A rule that does not fire
// but reads a key holding an unset variable is reported indeterminate; so
// is a rule that fires on a missing setting when the setting's key holds
// one.
func checkService(svc *types.ServiceConfig, project *types.Project, src *sources) []Finding {
	var out []Finding
	unset := src.unsetKeys(svc.Name)
	for _, rule := range Rules() {
		if rule.Check == nil {
			continue
		}
		hits := rule.Check(svc, project)
		var matters func(unsetKey, []unsetKey) bool
		if rule.dependsOn != nil {
			matters = func(u unsetKey, all []unsetKey) bool { return rule.dependsOn(svc, u, all) }
		}
		if u, ok := firstUnset(unset, rule.Fields, matters); ok && (len(hits) == 0 || rule.FiresOnAbsence) {
			out = append(out, Finding{
				RuleID:        rule.ID,
				Severity:      rule.Severity,
				Service:       svc.Name,
				Location:      u.loc,
				Path:          "services." + svc.Name + "." + u.key,
				Message:       fmt.Sprintf("%s holds %s, which is not set: cannot tell whether %q applies", u.key, joinVars(u.vars), rule.Title),
				Why:           rule.Why,
				Fix:           "set " + strings.Join(u.vars, ", ") + " in the environment or .env the audit runs with, or give a default (${VAR:-value})",
				Indeterminate: true,
				Variables:     u.vars,
			})
			continue
		}
		for _, h := range hits {
			sev := rule.Severity
			if h.Severity != None {
				sev = h.Severity
			}
			out = append(out, Finding{
				RuleID:   rule.ID,
				Severity: sev,
				Service:  svc.Name,
				Location: src.locate(svc.Name, h.Key, h.Item),
				Path:     yamlPath(svc.Name, h.Key, h.Index),
				Subject:  h.Subject,
				Message:  h.Message,
				Why:      rule.Why,
				Fix:      rule.Fix,
			})
		}
	}
	return out
}

// firstUnset returns the first unset variable in the fields a rule reads
// that matters may change the rule's outcome (nil: every one). A field is
// a service key, or a dotted path below one (deploy.resources.limits):
// then only the scalars at or below it count, so that an unset
// deploy.replicas leaves a memory limit rule decided.
func firstUnset(unset map[string]unsetKey, fields []string, matters func(u unsetKey, all []unsetKey) bool) (unsetKey, bool) {
	for _, f := range fields {
		top, _, nested := strings.Cut(f, ".")
		u, ok := unset[top]
		if !ok {
			continue
		}
		for _, sc := range u.scalars {
			if nested && sc.key != f && !strings.HasPrefix(sc.key, f+".") && !strings.HasPrefix(sc.key, f+"[") {
				continue
			}
			if matters != nil && !matters(sc, u.scalars) {
				continue
			}
			if !nested {
				// Named by the key, as the reader finds it.
				sc.key = top
			}
			return sc, true
		}
	}
	return unsetKey{}, false
}

func joinVars(vars []string) string {
	s := make([]string, len(vars))
	for i, v := range vars {
		s[i] = "${" + v + "}"
	}
	return strings.Join(s, ", ")
}

// yamlPath names a setting the way compose errors do:
// services.web.cap_add[1].
func yamlPath(service, key string, index int) string {
	p := "services." + service
	if key != "" {
		p += "." + key
	}
	if index >= 0 && key != "" {
		p += fmt.Sprintf("[%d]", index)
	}
	return p
}

// sortFindings orders findings most severe first, then by file, line,
// rule and service, so that output diffs cleanly between runs.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Location.File, b.Location.File),
			cmp.Compare(a.Location.Line, b.Location.Line),
			cmp.Compare(a.Location.Column, b.Location.Column),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Service, b.Service),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// relativeTo returns path relative to dir when it lies below dir.
func relativeTo(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
