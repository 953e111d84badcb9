package audit

// hardeningRules: hardening: read-only root, user, resource limits, published ports.
var hardeningRules []Rule
