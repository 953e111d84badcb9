package audit

// namespaceRules: the host's namespaces shared with the container.
var namespaceRules []Rule
