package audit

import "github.com/compose-spec/compose-go/v2/types"

// acceptances reads the service's x-capprof entries; malformed ones come
// back as findings.
func (s *sources) acceptances(svc *types.ServiceConfig) ([]Acceptance, []Finding) {
	return nil, nil
}

// applyAcceptances splits findings into kept and suppressed, and reports
// acceptances that have no reason or accept nothing.
func applyAcceptances(findings []Finding, accepted []Acceptance) (kept, suppressed, extra []Finding) {
	return findings, nil, nil
}
