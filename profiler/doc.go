// Package profiler runs capprof's main job: it loads a compose project,
// starts one service in an isolated trace run with the privilege it asked
// for, records what the service really uses while a workload runs, writes a
// least-privilege override and seccomp profile, and proves them by replaying
// the workload under the override.
package profiler
