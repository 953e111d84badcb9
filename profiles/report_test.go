package profiles

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func testReport(t *testing.T) Report {
	t.Helper()
	var services []ServiceReport
	for _, tc := range []struct {
		rec  Recording
		opts PolicyOptions
		v    *Verification
	}{
		{fuseRecording(), PolicyOptions{}, &Verification{
			Passed:  false,
			Message: "sshfs could not mount: mount refused",
			Commands: []CommandResult{
				{Where: "run", Command: "sshfs user@host:/ /mnt", ExitCode: 1, Output: "fuse: mount failed: Operation not permitted\n"},
				{Where: "exec", Command: "ls /mnt", ExitCode: 2, Output: "ls: /mnt: Transport endpoint is not connected\n"},
			},
			RefusedSyscalls:    []string{"mount", "fsopen"},
			DeniedCapabilities: []string{"CAP_SYS_ADMIN"},
		}},
		{tunRecording(), PolicyOptions{NoNewPrivileges: boolPtr(true)}, &Verification{
			Passed:   true,
			Message:  "all workload commands exited 0 under the override",
			Commands: []CommandResult{{Where: "exec", Command: "ip tuntap add mode tun tun0", ExitCode: 0, Output: "dropped: passed"}},
		}},
		{emptyRecording(), PolicyOptions{NoNewPrivileges: boolPtr(true)}, nil},
		{ipforwardRecording(), PolicyOptions{NoNewPrivileges: boolPtr(true)}, &Verification{
			Passed:   true,
			Message:  "all workload commands exited 0 under the override",
			Commands: []CommandResult{{Where: "exec", Command: "test \"$(cat /proc/sys/net/ipv4/ip_forward)\" = 1", ExitCode: 0}},
		}},
	} {
		p, err := NewPolicy(tc.rec, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		sr := NewServiceReport(tc.rec, p, tc.v)
		if tc.rec.Service == "tun" {
			// As --arch arm64 would add it; lists out of order, for JSON to sort.
			sr.Policy.ArchProfile = &ArchProfile{
				ArchTranslation: ArchTranslation{
					From: "amd64", To: "arm64",
					Translated: []SyscallTranslation{{Syscall: "open", Into: []string{"openat"}}, {Syscall: "dup2", Into: []string{"fcntl", "dup3"}}},
					Dropped:    []string{"iopl", "arch_prctl"},
				},
				SeccompPath:     "seccomp/tun.arm64.json",
				SyscallsAllowed: 42,
				NoSys:           []string{"statx", "cachestat"},
			}
		}
		services = append(services, sr)
	}
	return Report{
		Tool: "capprof",
		Host: HostFacts{
			Kernel: "6.1.0-28-amd64", Arch: "amd64", DockerVersion: "20.10.24", Runtime: "runc 1.1.12",
			NotGranted: []string{"CAP_PERFMON: rejected by name by Docker 20.10", "CAP_BPF: rejected by name by Docker 20.10"},
			Notes:      []string{"no AppArmor on this host", "ip_unprivileged_port_start=0 in containers: low ports need no NET_BIND_SERVICE"},
		},
		Services: services,
	}
}

func TestReportJSONGolden(t *testing.T) {
	r := testReport(t)
	got, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	assertGolden(t, "report.json", got)

	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"tool", "host", "services"} {
		if _, ok := back[key]; !ok {
			t.Errorf("report lacks %q", key)
		}
	}
	if strings.Contains(string(got), "dropped: passed") {
		t.Error("output of a passed verification is in the report")
	}
	if !strings.Contains(string(got), "Operation not permitted") {
		t.Error("the failing command's output tail is missing")
	}
}

// The same facts in another order give the same bytes, and JSON leaves the
// report it was given alone.
func TestReportJSONDeterministic(t *testing.T) {
	// tun gets a second capability, so that there is an order to shuffle.
	report := func() Report {
		r := testReport(t)
		tun := &r.Services[1].Recording
		tun.Capabilities = append(tun.Capabilities, CapabilityUse{Capability: "CAP_NET_RAW", Granted: 1, Programs: []ProgramCount{{Program: "ping", Count: 1}}})
		return r
	}
	r := report()
	want, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	shuffled := report()
	s := shuffled.Services
	s[0], s[2] = s[2], s[0]
	tun := &s[1].Recording
	tun.Syscalls[0], tun.Syscalls[5] = tun.Syscalls[5], tun.Syscalls[0]
	tun.Noise[0], tun.Noise[2] = tun.Noise[2], tun.Noise[0]
	tun.Capabilities[0], tun.Capabilities[1] = tun.Capabilities[1], tun.Capabilities[0]
	shuffled.Host.NotGranted[0], shuffled.Host.NotGranted[1] = shuffled.Host.NotGranted[1], shuffled.Host.NotGranted[0]
	before := report()
	before.Services = shuffled.Services
	before.Host = shuffled.Host

	got, err := shuffled.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("reordered input gives different JSON:\n%s", firstDiff(string(want), string(got)))
	}
	if !reflect.DeepEqual(shuffled, before) {
		t.Error("JSON() modified the report")
	}
}

func TestReportEmptyListsAreArrays(t *testing.T) {
	got, err := Report{Services: []ServiceReport{{Recording: Recording{Service: "x"}}}}.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"tool": "capprof"`, `"capabilities": []`, `"noise": []`, `"syscalls": []`, `"devices": []`, `"cap_add": []`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("report lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(string(got), "null") {
		t.Errorf("report has null:\n%s", got)
	}
}

func TestReportOutputTail(t *testing.T) {
	long := strings.Repeat("é", OutputTailBytes) + "the end\n"
	r := Report{Services: []ServiceReport{{
		Recording:    Recording{Service: "x"},
		Verification: &Verification{Commands: []CommandResult{{Where: "run", Command: "x", ExitCode: 1, Output: long}}},
	}}}
	got, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	out := back.Services[0].Verification.Commands[0].Output
	if len(out) > OutputTailBytes || !strings.HasSuffix(out, "the end\n") || !utf8.ValidString(out) {
		t.Errorf("tail is %d bytes, valid UTF-8 %v, ends %q", len(out), utf8.ValidString(out), out[len(out)-10:])
	}
}
