package profiler

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/capprof/capprof/profiles"
)

// The replay that grants a weaker capability in place of a stronger one is
// recorded as such, not as a plain removal of the stronger one, whether it
// passes or not.
func TestTryWeakerAlternativesRecordsWhatItGranted(t *testing.T) {
	policy := profiles.Policy{CapAdd: []profiles.Grant{{Capability: "CHOWN"}, {Capability: "DAC_OVERRIDE"}}}
	earlier := profiles.Trial{Number: 1, Without: []string{"DAC_OVERRIDE"}, Why: "DAC_OVERRIDE denied"}
	tests := []struct {
		name       string
		passes     bool
		wantNeeded []string
		wantCaps   []string
		wantTrial  profiles.Trial
	}{
		{"weaker passes", true, []string{"CHOWN", "DAC_READ_SEARCH"}, []string{"CHOWN", "DAC_READ_SEARCH"},
			profiles.Trial{Number: 2, Without: []string{"DAC_OVERRIDE"}, Instead: []string{"DAC_READ_SEARCH"}, Passed: true}},
		{"weaker fails", false, []string{"CHOWN", "DAC_OVERRIDE"}, []string{"CHOWN", "DAC_OVERRIDE"},
			profiles.Trial{Number: 2, Without: []string{"DAC_OVERRIDE"}, Instead: []string{"DAC_READ_SEARCH"}, Why: "CAP_DAC_OVERRIDE denied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &profiles.Minimization{Trials: []profiles.Trial{earlier}}
			var labels []string
			replay := func(candidate profiles.Policy, left, instead []string) (bool, string, error) {
				labels = append(labels, trialLabel(left, instead))
				var caps []string
				for _, g := range candidate.CapAdd {
					caps = append(caps, g.Capability)
				}
				if want := []string{"CHOWN", "DAC_READ_SEARCH"}; !slices.Equal(caps, want) {
					t.Errorf("replayed with %v, want %v", caps, want)
				}
				if tt.passes {
					return true, "", nil
				}
				return false, "CAP_DAC_OVERRIDE denied", nil
			}
			needed, final, err := tryWeakerAlternatives(policy, []string{"CHOWN", "DAC_OVERRIDE"}, m, replay)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"with DAC_READ_SEARCH in place of DAC_OVERRIDE"}; !slices.Equal(labels, want) {
				t.Errorf("progress says replay %q, want %q", labels, want)
			}
			if !slices.Equal(needed, tt.wantNeeded) {
				t.Errorf("needed = %v, want %v", needed, tt.wantNeeded)
			}
			var caps []string
			for _, g := range final.CapAdd {
				caps = append(caps, g.Capability)
			}
			if !slices.Equal(caps, tt.wantCaps) {
				t.Errorf("final policy grants %v, want %v", caps, tt.wantCaps)
			}
			if len(m.Trials) != 2 {
				t.Fatalf("trials = %+v, want the earlier one and one more", m.Trials)
			}
			got, _ := json.Marshal(m.Trials[1])
			want, _ := json.Marshal(tt.wantTrial)
			if string(got) != string(want) {
				t.Errorf("trial = %s, want %s", got, want)
			}
			if plain, _ := json.Marshal(m.Trials[0]); strings.Contains(string(plain), "instead") {
				t.Errorf("a plain removal's trial says %s: instead must be left out", plain)
			}
			if tt.passes {
				if want := []profiles.RemovedGrant{{Grant: "DAC_OVERRIDE", ProvedBy: 2, ReplacedBy: "DAC_READ_SEARCH"}}; !slices.Equal(m.Removed, want) {
					t.Errorf("removed = %+v, want %+v", m.Removed, want)
				}
			} else if len(m.Removed) != 0 {
				t.Errorf("removed = %+v after a failed replay", m.Removed)
			}
		})
	}
}

func TestTrialLabel(t *testing.T) {
	for _, tt := range []struct {
		left, instead []string
		want          string
	}{
		{[]string{"CHOWN", "/dev/fuse"}, nil, "without CHOWN, /dev/fuse"},
		{[]string{"DAC_OVERRIDE"}, []string{"DAC_READ_SEARCH"}, "with DAC_READ_SEARCH in place of DAC_OVERRIDE"},
	} {
		if got := trialLabel(tt.left, tt.instead); got != tt.want {
			t.Errorf("trialLabel(%v, %v) = %q, want %q", tt.left, tt.instead, got, tt.want)
		}
	}
}
