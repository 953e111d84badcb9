package profiler

import (
	"fmt"
	"testing"

	"github.com/capprof/capprof/tracer"
)

// BenchmarkBuildRecording measures turning a busy trace run's snapshot (many
// namespaces on the host, thousands of distinct checks) into one service's
// Recording: the work capprof does after every trace run and replay.
func BenchmarkBuildRecording(b *testing.B) {
	snap := &tracer.Snapshot{HostMntNS: 1}
	stacks := [][]string{
		{"cap_capable", "security_capable", "ns_capable", "tun_set_iff"},
		{"cap_capable", "security_vm_enough_memory_mm", "__mmap_region", "do_mmap"},
		{"cap_capable", "security_capable", "ns_capable_noaudit", "bpf_jit_charge_modmem"},
	}
	for ns := uint32(100); ns < 200; ns++ {
		for i := 0; i < 100; i++ {
			snap.CapChecks = append(snap.CapChecks, tracer.CapCheck{MntNS: ns, MntNSID: uint64(ns), Cap: i % 41,
				Workload: i%3 != 0, Comm: fmt.Sprintf("prog%d", i%7), Stack: stacks[i%len(stacks)], Count: uint64(i)})
			snap.Syscalls = append(snap.Syscalls, tracer.Syscall{MntNS: ns, MntNSID: uint64(ns), Nr: i * 3, Workload: i%2 == 0, Count: 10})
		}
		snap.Devices = append(snap.Devices, tracer.DeviceAccess{MntNS: ns, MntNSID: uint64(ns), Major: 10, Minor: 200, Access: "rw", Workload: true, Comm: "ip", Count: 1})
	}
	mntns := map[nsKey]bool{{150, 150}: true, {151, 151}: true}
	paths := map[string]string{"c 10:200": "/dev/net/tun"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := buildRecording(snap, mntns, paths, "amd64"); err != nil {
			b.Fatal(err)
		}
	}
}
