package profiles

import (
	"errors"
	"testing"
)

func TestCapName(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "CAP_CHOWN"},
		{12, "CAP_NET_ADMIN"},
		{21, "CAP_SYS_ADMIN"},
		{38, "CAP_PERFMON"},
		{39, "CAP_BPF"},
		{40, "CAP_CHECKPOINT_RESTORE"},
		{41, "CAP_41"},
		{-1, "CAP_-1"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := CapName(tt.n); got != tt.want {
				t.Errorf("CapName(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestParseCap(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"CAP_NET_ADMIN", 12, false},
		{"NET_ADMIN", 12, false},
		{"net_admin", 12, false},
		{"cap_net_admin", 12, false},
		{" Cap_Sys_Admin ", 21, false},
		{"CAP_41", 41, false},
		{"CAP_64", 0, true},
		{"ALL", 0, true},
		{"", 0, true},
		{"CAP_", 0, true},
		{"NET_ADMINX", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCap(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownCapability) {
					t.Fatalf("ParseCap(%q) error = %v, want ErrUnknownCapability", tt.in, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseCap(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestCapNameRoundTrip(t *testing.T) {
	for n := 0; n <= lastCapNumber; n++ {
		got, err := ParseCap(CapName(n))
		if err != nil || got != n {
			t.Errorf("ParseCap(CapName(%d)) = %d, %v", n, got, err)
		}
	}
}
