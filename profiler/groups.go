package profiler

import (
	"fmt"

	"github.com/capprof/capprof/profiles"
)

// Trial is one replay of the workload with some grants left out.
type Trial = profiles.Trial

// passFunc replays the workload with only keep granted and says whether it
// passed, and if not, why.
type passFunc func(keep []string) (bool, string, error)

// minimizeGrants finds a minimal set of grants among items for which the
// workload still passes, assuming that it passes with all of them and that
// more grants never make it fail. It uses adaptive group testing: it leaves
// out a whole group at once, drops the group when the replay passes, and
// splits it in halves when it fails, down to single grants, which are then
// needed; when the first half of a failing group passes, the second is known
// to fail and is split without a replay. With k needed among n that takes at
// most about 2·k·log2(n) replays instead of n, and one when nothing is needed.
func minimizeGrants(items []string, pass passFunc) (needed []string, trials []Trial, err error) {
	keep := map[string]bool{}
	for _, it := range items {
		keep[it] = true
	}
	// test leaves group out. failing says the replay is already known to
	// fail: its half-sibling passed, so the needed grant is in this half.
	var test func(group []string, failing bool) error
	test = func(group []string, failing bool) error {
		if len(group) == 0 {
			return nil
		}
		if !failing {
			var candidate []string
			out := map[string]bool{}
			for _, g := range group {
				out[g] = true
			}
			for _, it := range items {
				if keep[it] && !out[it] {
					candidate = append(candidate, it)
				}
			}
			ok, why, err := pass(candidate)
			if err != nil {
				return fmt.Errorf("replay %d without %v: %w", len(trials)+1, group, err)
			}
			trials = append(trials, Trial{Number: len(trials) + 1, Without: append([]string(nil), group...), Passed: ok, Why: why})
			if ok {
				for _, g := range group {
					keep[g] = false
				}
				return nil
			}
		}
		if len(group) == 1 {
			return nil
		}
		mid := len(group) / 2
		dropped := len(trials)
		if err := test(group[:mid], false); err != nil {
			return err
		}
		firstPassed := len(trials) > dropped && trials[dropped].Passed
		return test(group[mid:], firstPassed)
	}
	if err := test(items, false); err != nil {
		return nil, trials, err
	}
	for _, it := range items {
		if keep[it] {
			needed = append(needed, it)
		}
	}
	return needed, trials, nil
}
