package profiler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/capprof/capprof/profiles"
)

// weakerAlternative maps a capability to a weaker one that covers some of
// its checks. With every capability the kernel stops at the first check that
// passes, so a trace run can show DAC_OVERRIDE where DAC_READ_SEARCH would
// do; removing grants alone never finds that, so minimization tries it.
var weakerAlternative = map[string]string{
	"DAC_OVERRIDE": "DAC_READ_SEARCH",
}

// minimize removes every capability and device that a replay proves
// unneeded, by adaptive group testing over the policy's grants, then tries
// weaker alternatives for what is left. The syscall list stays as recorded.
// A replay passes when the workload passes and the service ends as in the
// trace run; denials of the capabilities it leaves out are the experiment and
// are tolerated. It returns the smaller policy, the record of the replays and
// the capabilities (kernel names) whose denials the final replay tolerates.
func (p *profiler) minimize(ctx context.Context, rec profiles.Recording, policy profiles.Policy) (profiles.Policy, *profiles.Minimization, map[string]bool, error) {
	trialPath := filepath.Join(p.tmp, "trial.override.yml")
	replay := func(candidate profiles.Policy, left, instead []string) (bool, string, error) {
		y, err := candidate.ComposeOverride()
		if err != nil {
			return false, "", err
		}
		if err := os.WriteFile(trialPath, y, 0o644); err != nil {
			return false, "", fmt.Errorf("write trial override: %w", err)
		}
		v, err := p.verify(ctx, rec, candidate, trialPath, capNames(left))
		if err != nil {
			return false, "", err
		}
		verdict := "passed"
		if !v.Passed {
			verdict = "failed: " + firstLine(v.Message)
		}
		fmt.Fprintf(p.progress, "capprof:   replay %s: %s\n", trialLabel(left, instead), verdict)
		return v.Passed, firstLine(v.Message), nil
	}
	// First no-new-privileges, left off because a program gained privilege
	// by its exec: whether the service needs what it gained only a replay
	// shows, and the grants are then minimized under the setting that stays.
	var first []profiles.Trial
	var removedFirst []profiles.RemovedGrant
	if !policy.NoNewPrivileges && p.nnp == nil {
		candidate, err := policy.WithNoNewPrivileges(rec, "set: a replay passed with it, so what the executed programs gained by their exec is not needed")
		if err != nil {
			return policy, nil, nil, fmt.Errorf("minimize: %w", err)
		}
		passed, why, err := replay(candidate, []string{newPrivileges}, nil)
		if err != nil {
			return policy, nil, nil, fmt.Errorf("minimize: %w", err)
		}
		first = append(first, profiles.Trial{Number: 1, Without: []string{newPrivileges}, Passed: passed, Why: why})
		if passed {
			removedFirst = append(removedFirst, profiles.RemovedGrant{Grant: newPrivileges, ProvedBy: 1})
			policy = candidate
		}
	}

	var items []string
	for _, g := range policy.CapAdd {
		items = append(items, g.Capability)
	}
	for _, d := range policy.Devices {
		items = append(items, d.HostPath)
	}
	fmt.Fprintf(p.progress, "capprof: minimizing %s by replay\n", count(len(items), "grant", "grants"))
	needed, trials, err := minimizeGrants(items, func(keep []string) (bool, string, error) {
		return replay(policy.Restrict(keep), without(items, keep), nil)
	})
	if err != nil {
		return policy, nil, nil, fmt.Errorf("minimize: %w", err)
	}
	for i := range trials {
		trials[i].Number += len(first)
	}
	m := &profiles.Minimization{Trials: append(first, trials...), Removed: removedFirst}
	for _, it := range without(items, needed) {
		for _, tr := range trials {
			if tr.Passed && slices.Contains(tr.Without, it) {
				m.Removed = append(m.Removed, profiles.RemovedGrant{Grant: it, ProvedBy: tr.Number})
				break
			}
		}
	}
	needed, final, err := tryWeakerAlternatives(policy, needed, m, replay)
	if err != nil {
		return policy, nil, nil, fmt.Errorf("minimize: %w", err)
	}
	m.Replays = len(m.Trials)
	return final, m, capNames(without(items, needed)), nil
}

// trialReplay replays the workload under candidate, which leaves out the
// grants in left and grants those in instead in their place, and says
// whether it passed and, if not, why.
type trialReplay func(candidate profiles.Policy, left, instead []string) (bool, string, error)

// tryWeakerAlternatives replays with each needed capability that has a
// weaker alternative granted in its place, and keeps the weaker one when
// the replay passes. It records each replay in m as a trial that says what
// it granted instead, and returns the grants then needed, among policy's,
// and the policy that grants them.
func tryWeakerAlternatives(policy profiles.Policy, needed []string, m *profiles.Minimization, replay trialReplay) ([]string, profiles.Policy, error) {
	final := policy.Restrict(needed)
	for _, strong := range slices.Clone(needed) {
		weak, ok := weakerAlternative[strong]
		if !ok || slices.Contains(needed, weak) {
			continue
		}
		keep := append(without(needed, []string{strong}), weak)
		candidate := withCapability(policy.Restrict(keep), weak, "in place of "+strong+": a replay passed with it")
		passed, why, err := replay(candidate, []string{strong}, []string{weak})
		if err != nil {
			return needed, final, err
		}
		m.Trials = append(m.Trials, profiles.Trial{Number: len(m.Trials) + 1, Without: []string{strong}, Instead: []string{weak}, Passed: passed, Why: why})
		if passed {
			m.Removed = append(m.Removed, profiles.RemovedGrant{Grant: strong, ProvedBy: len(m.Trials), ReplacedBy: weak})
			needed, final = keep, candidate
		}
	}
	return needed, final, nil
}

// trialLabel says what a replay left out and, for a weaker alternative,
// what it granted in its place.
func trialLabel(left, instead []string) string {
	if len(instead) > 0 {
		return "with " + strings.Join(instead, ", ") + " in place of " + strings.Join(left, ", ")
	}
	return "without " + strings.Join(left, ", ")
}

// newPrivileges names, among minimization's grants, leaving
// no-new-privileges off: what setuid programs and file capabilities gain.
const newPrivileges = "new privileges (no-new-privileges off)"

// withCapability adds a capability grant to a policy, keeping CapAdd sorted.
func withCapability(p profiles.Policy, capability, evidence string) profiles.Policy {
	p.CapAdd = append(slices.Clone(p.CapAdd), profiles.Grant{Capability: capability, Evidence: evidence})
	slices.SortFunc(p.CapAdd, func(a, b profiles.Grant) int { return strings.Compare(a.Capability, b.Capability) })
	return p
}

// capNames turns grants as compose writes them ("NET_ADMIN") into the
// kernel names replays report ("CAP_NET_ADMIN"); device paths and
// newPrivileges are skipped.
func capNames(grants []string) map[string]bool {
	out := map[string]bool{}
	for _, g := range grants {
		if !strings.HasPrefix(g, "/") && g != newPrivileges {
			out["CAP_"+g] = true
		}
	}
	return out
}

// without returns the items not in keep, in order.
func without(items, keep []string) []string {
	var out []string
	for _, it := range items {
		if !slices.Contains(keep, it) {
			out = append(out, it)
		}
	}
	return out
}

// firstLine returns the first line of s as a summary: without the colon
// that introduces the lines after it.
func firstLine(s string) string {
	line, _, more := strings.Cut(s, "\n")
	if more {
		line = strings.TrimSuffix(line, ":")
	}
	return line
}

// MinimizeOptions are the inputs of `capprof minimize`.
type MinimizeOptions struct {
	// Dir is the output directory of an earlier `capprof profile`.
	Dir string
	// Arch is as Options.Arch; empty means the earlier profile's --arch.
	Arch string
	// Progress receives one line per step.
	Progress io.Writer
}

// Minimize minimizes an earlier profile in place: it replays the workload
// recorded in DIR/report.json without each grant, rewrites the override,
// verifies it and writes the report with the replays that proved each
// removal.
func Minimize(ctx context.Context, opts MinimizeOptions) (*Result, error) {
	if _, err := ParseArch(opts.Arch); err != nil {
		return nil, err
	}
	reportPath := filepath.Join(opts.Dir, "report.json")
	b, err := os.ReadFile(reportPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v (run capprof profile --out %s first)", ErrOutput, reportPath, err, opts.Dir)
	}
	var report profiles.Report
	if err := json.Unmarshal(b, &report); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrOutput, reportPath, err)
	}
	if len(report.Services) != 1 || report.Services[0].Invocation == nil {
		return nil, fmt.Errorf("%w: %s does not say how its service was profiled: profile it again with capprof profile --minimize", ErrOutput, reportPath)
	}
	sr := report.Services[0]
	in := sr.Invocation
	w := Workload{Exec: in.Exec, Run: in.Run}
	for _, d := range []struct {
		text string
		into *time.Duration
	}{{in.Duration, &w.Duration}, {in.Timeout, &w.Timeout}, {in.StartupGrace, &w.StartupGrace}} {
		if d.text == "" {
			continue
		}
		if *d.into, err = time.ParseDuration(d.text); err != nil {
			return nil, fmt.Errorf("%w: %s: invocation: %v", ErrOutput, reportPath, err)
		}
	}
	files := make([]string, len(in.ComposeFiles))
	for i, f := range in.ComposeFiles {
		files[i] = filepath.Join(opts.Dir, filepath.FromSlash(f))
	}
	p, err := newSession(ctx, files, in.Service, w, opts.Dir, in.NoNewPrivileges, opts.Progress)
	if err != nil {
		return nil, err
	}
	defer p.Close()
	p.host.NotGranted = report.Host.NotGranted
	arch := opts.Arch
	if arch == "" {
		arch = in.Arch
	}
	if err := p.translateTo(arch, sr.Recording.Arch); err != nil {
		return nil, err
	}
	p.traceEnd = &runOutcome{runningAtEnd: in.TraceEnd == "running"}
	if code, ok := strings.CutPrefix(in.TraceEnd, "exited "); ok {
		fmt.Sscanf(code, "%d", &p.traceEnd.exitCode)
	}
	return p.finish(ctx, sr.Recording, true, false)
}

// relativeTo returns path relative to dir, with forward slashes, or path
// itself when it has no relative form.
func relativeTo(dir, path string) string {
	rel, err := filepath.Rel(dir, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}
