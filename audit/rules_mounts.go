package audit

// mountRules: volumes: engine sockets, sensitive host paths, mount propagation.
var mountRules []Rule
