package audit

import "github.com/compose-spec/compose-go/v2/types"

// privilegeRules: privileged mode and capabilities.
var privilegeRules = []Rule{
	{
		ID:       "privileged",
		Severity: High,
		Title:    "privileged mode",
		Why:      "privileged gives every capability, every host device and writable /sys: root in the container is root on the host",
		Fix:      "run capprof profile to get the least-privilege override",
		Fields:   []string{"privileged"},
		Check: func(svc *types.ServiceConfig) []Hit {
			if !svc.Privileged {
				return nil
			}
			return []Hit{{Key: "privileged", Index: -1, Message: "privileged: true"}}
		},
	},
}
