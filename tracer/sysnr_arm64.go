//go:build linux

package tracer

import "golang.org/x/sys/unix"

// syscallNumbers are the calls the BPF program watches for device nodes,
// capset, execs and write opens, in the running architecture's numbering. arm64 has no open, creat
// or mknod: their BPF constants keep the default -1.
var syscallNumbers = map[string]int32{
	"nr_openat":   unix.SYS_OPENAT,
	"nr_openat2":  unix.SYS_OPENAT2,
	"nr_mknodat":  unix.SYS_MKNODAT,
	"nr_capset":   unix.SYS_CAPSET,
	"nr_execve":   unix.SYS_EXECVE,
	"nr_execveat": unix.SYS_EXECVEAT,
}
