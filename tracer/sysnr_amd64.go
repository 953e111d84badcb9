//go:build linux

package tracer

import "golang.org/x/sys/unix"

// syscallNumbers are the calls the BPF program watches for device nodes,
// capset, execs and write opens, in the running architecture's numbering.
var syscallNumbers = map[string]int32{
	"nr_open":     unix.SYS_OPEN,
	"nr_creat":    unix.SYS_CREAT,
	"nr_openat":   unix.SYS_OPENAT,
	"nr_openat2":  unix.SYS_OPENAT2,
	"nr_mknod":    unix.SYS_MKNOD,
	"nr_mknodat":  unix.SYS_MKNODAT,
	"nr_capset":   unix.SYS_CAPSET,
	"nr_execve":   unix.SYS_EXECVE,
	"nr_execveat": unix.SYS_EXECVEAT,
}
