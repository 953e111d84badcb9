package audit

import "slices"

// Rules returns every rule, in a stable order.
func Rules() []Rule { return rules }

// RuleByID returns the rule with that id.
func RuleByID(id string) (Rule, bool) {
	for _, r := range rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// rules are the rule groups, each in a file of its own: privilege and
// capabilities, security options, host namespaces, mounts, devices and
// sysctls, hardening.
var rules = slices.Concat(
	privilegeRules,
	securityOptRules,
	namespaceRules,
	mountRules,
	deviceRules,
	hardeningRules,
	acceptanceRules,
)
