package profiler

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// oracle passes when every truly needed grant is kept.
func oracle(needed ...string) passFunc {
	return func(keep []string) (bool, string, error) {
		for _, n := range needed {
			if !slices.Contains(keep, n) {
				return false, n + " denied", nil
			}
		}
		return true, "", nil
	}
}

func TestMinimizeGrants(t *testing.T) {
	many := make([]string, 32)
	for i := range many {
		many[i] = fmt.Sprintf("CAP_%02d", i)
	}
	manyMore := make([]string, 128)
	for i := range manyMore {
		manyMore[i] = fmt.Sprintf("CAP_%03d", i)
	}
	tests := []struct {
		name      string
		items     []string
		needed    []string
		maxTrials int
	}{
		{"nothing needed: one replay", []string{"CHOWN", "SETUID", "SETGID"}, nil, 1},
		{"all needed", []string{"CHOWN", "SETUID"}, []string{"CHOWN", "SETUID"}, 3},
		// k needed among n: at most 2·k·log2(n) + 1 replays, which for few
		// needs among many grants is far below one replay per grant.
		{"one of many", many, []string{"CAP_17"}, 2*1*5 + 1},
		{"two of many", many, []string{"CAP_03", "CAP_29"}, 2*2*5 + 1},
		{"two of very many", manyMore, []string{"CAP_003", "CAP_100"}, 2*2*7 + 1},
		{"four of many", many, []string{"CAP_00", "CAP_09", "CAP_20", "CAP_31"}, 2*4*5 + 1},
		{"DAC_OVERRIDE proved unneeded", []string{"DAC_OVERRIDE", "DAC_READ_SEARCH"}, []string{"DAC_READ_SEARCH"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, trials, err := minimizeGrants(tt.items, oracle(tt.needed...))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.needed) {
				t.Errorf("needed = %v, want %v", got, tt.needed)
			}
			if len(trials) > tt.maxTrials {
				t.Errorf("%d replays, want at most %d", len(trials), tt.maxTrials)
			}
			if len(tt.items) > 8 && len(tt.needed) <= 2 && len(trials) >= len(tt.items)/2 {
				t.Errorf("%d replays for %d grants: no better than one by one", len(trials), len(tt.items))
			}
			for i, tr := range trials {
				if tr.Number != i+1 {
					t.Errorf("trial %d numbered %d", i+1, tr.Number)
				}
			}
		})
	}
	// Each dropped grant is dropped by a passing trial that left it out.
	_, trials, _ := minimizeGrants([]string{"A", "B", "C", "D"}, oracle("C"))
	for _, dropped := range []string{"A", "B", "D"} {
		if !slices.ContainsFunc(trials, func(tr Trial) bool { return tr.Passed && slices.Contains(tr.Without, dropped) }) {
			t.Errorf("no passing replay proves %s unneeded: %+v", dropped, trials)
		}
	}
}

func TestMinimizeGrantsStopsOnError(t *testing.T) {
	boom := errors.New("docker gone")
	_, _, err := minimizeGrants([]string{"A", "B"}, func([]string) (bool, string, error) { return false, "", boom })
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the replay's error", err)
	}
}

func TestHealthStep(t *testing.T) {
	tests := []struct {
		test     []string
		ok       bool
		wantArgv []string
	}{
		{[]string{"CMD", "curl", "-f", "http://localhost/"}, true, []string{"curl", "-f", "http://localhost/"}},
		{[]string{"CMD-SHELL", "pg_isready || exit 1"}, true, []string{"/bin/sh", "-c", "pg_isready || exit 1"}},
		{[]string{"NONE"}, false, nil},
		{nil, false, nil},
		{[]string{"CMD"}, false, nil},
	}
	for _, tt := range tests {
		step, ok := healthStep(tt.test)
		if ok != tt.ok || !slices.Equal(step.argv, tt.wantArgv) {
			t.Errorf("healthStep(%q) = %+v, %v; want argv %q, %v", tt.test, step, ok, tt.wantArgv, tt.ok)
		}
		if ok && step.where != "health" {
			t.Errorf("healthStep(%q).where = %q", tt.test, step.where)
		}
	}
}
