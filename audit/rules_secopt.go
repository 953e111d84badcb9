package audit

// securityOptRules: security_opt: seccomp, AppArmor, SELinux labels, systempaths, no-new-privileges.
var securityOptRules []Rule
