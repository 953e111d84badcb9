package audit

// deviceRules: devices, device_cgroup_rules and sysctls.
var deviceRules []Rule
