//go:build linux

package tracer

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// BenchmarkSyscallOverhead measures what the attached programs add to every
// system call on the host (sys_enter and sys_exit run for all tasks, even
// those outside containers that are filtered out in the kernel).
func BenchmarkSyscallOverhead(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	loop := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			unix.Getppid()
		}
	}
	b.Run("detached", loop)
	tr, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	b.Run("attached", loop)
}
