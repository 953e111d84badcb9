package profiler

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/capprof/capprof/profiles"
)

// verify replays the workload with the user's files plus an override (the
// generated one, or a candidate during minimization), with the tracer on.
// It passes when the service starts and ends as in the trace run, every
// workload command exits 0, no capability check the trace run granted is
// denied and no syscall is refused by the seccomp profile.
//
// tolerate names capabilities (kernel names) whose denials are expected:
// those the policy leaves out because minimization proved them unneeded.
func (p *profiler) verify(ctx context.Context, trace profiles.Recording, policy profiles.Policy, overridePath string, tolerate map[string]bool) (*profiles.Verification, error) {
	files, err := p.emulationFiles("replay-deps.override.yml", p.dependencies(), nil, overridePath)
	if err != nil {
		return nil, err
	}
	replay, err := p.runService(ctx, "replay", files, p.traceEnd)
	if err != nil {
		return nil, err
	}
	v := &profiles.Verification{Commands: replay.commands}
	snap, err := p.tr.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("read the tracer's maps: %w", err)
	}
	ns := replay.mntns(snap)
	replayRec, err := buildRecording(snap, ns, nil, trace.Arch)
	if err != nil {
		return nil, err
	}
	f := replayFindings(trace, replayRec, snap, ns, policy, trace.Arch, tolerate)
	v.DeniedCapabilities, v.ToleratedDenials, v.RefusedSyscalls = f.denied, f.tolerated, f.refused
	v.ReadonlyWrites = newReadonlyWrites(trace.ReadonlyWrites, replayRec.ReadonlyWrites)
	for _, w := range v.ReadonlyWrites {
		fmt.Fprintf(p.progress, "capprof:   under the override a write open of %s failed with EROFS (read-only file system); the trace run's did not\n", w)
	}
	var problems []string
	if replay.workloadErr != nil {
		problems = append(problems, replay.workloadErr.Error())
	}
	if replay.stoppedEarly != "" {
		problems = append(problems, replay.stoppedEarly)
	}
	if len(v.DeniedCapabilities) > 0 {
		denied := "capability checks denied: " + strings.Join(v.DeniedCapabilities, "; ")
		if policy.NoNewPrivileges && policy.NoNewPrivilegesWhy == "set as asked" {
			denied += " (if the service runs setuid or file-capability programs: no-new-privileges disables them; profile again without --no-new-privileges=true)"
		}
		problems = append(problems, denied)
	}
	if len(v.RefusedSyscalls) > 0 {
		problems = append(problems, "syscalls refused by the seccomp profile: "+strings.Join(v.RefusedSyscalls, "; "))
	}
	if len(problems) == 0 {
		v.Passed = true
		v.Message = "replay passed: the service ran the workload under the override with no denied capability check and no refused syscall"
	} else {
		v.Message = strings.Join(problems, "\n")
	}
	return v, nil
}

// newReadonlyWrites lists the paths whose write opens failed with EROFS
// more often in the replay than in the trace run: writes privileged allowed
// (a writable /sys or /proc/sys) that the override refuses. The workload
// may tolerate them; the report lists them for a reviewer.
func newReadonlyWrites(trace, replay []profiles.PathCount) []string {
	before := map[string]uint64{}
	for _, w := range trace {
		before[w.Path] += w.Count
	}
	var out []string
	for _, w := range replay {
		if w.Count > before[w.Path] {
			out = append(out, fmt.Sprintf("%s (%s)", w.Path, count(int(w.Count), "time", "times")))
		}
	}
	sort.Strings(out)
	return out
}
