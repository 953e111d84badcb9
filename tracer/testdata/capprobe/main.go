// Command capprobe is the workload of the tracer's end-to-end tests: run as a
// container's entrypoint, it makes a few privileged requests the tests then
// look for in a snapshot. It is built statically and imported into an image
// of its own, so its comm is "capprobe".
//
// Its arguments are steps, run in order ("capprobe chown seccomp"); with
// none it runs "probe". "exec PROGRAM ARGS..." ends the steps: capprobe
// executes PROGRAM in its place.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// steps are the modes capprobe runs by name.
var steps = map[string]func(){
	// probe: chown and /dev/null, the tracer tests' basic workload.
	"probe": probe,
	// chown: a need (CAP_CHOWN) beside the noise steps.
	"chown": chownFile,
	// keepcaps: capset keeping CAP_NET_RAW across a change of user.
	"keepcaps": keepCaps,
	// seccomp: a seccomp filter installed without no_new_privs.
	"seccomp": seccompWithoutNoNewPrivs,
	// stat-other-uid: /proc/PID/stat of a process of another user.
	"stat-other-uid": statOtherUID,
	// environ-other-uid: /proc/PID/environ of a process of another user.
	"environ-other-uid": environOtherUID,
	// landlock: a Landlock ruleset enforced without no_new_privs.
	"landlock": landlockWithoutNoNewPrivs,
	// listxattr: the extended attributes of a tmpfs directory listed.
	"listxattr": listTmpfsXattrs,
	// kallsyms: /proc/kallsyms read.
	"kallsyms": readKallsyms,
	// vm: an accounted private mapping and a fork.
	"vm": vmAccounting,
	// sleep: print "ready" and sleep until killed (stat-other-uid's child).
	"sleep": sleepUntilKilled,
	// wait: stay up for docker exec until stopped.
	"wait": waitForSignal,
}

func main() {
	args := os.Args[1:]
	if len(args) == 0 {
		args = []string{"probe"}
	}
	for i, name := range args {
		if name == "exec" {
			// Execute another program (the arguments after "exec") in place
			// of this one, as a shell running a program does.
			execProgram(args[i+1:])
		}
		step, ok := steps[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "capprobe: unknown mode %q\n", name)
			os.Exit(2)
		}
		step()
	}
}

// execProgram replaces capprobe with argv[0], run with argv; it does not
// return.
func execProgram(argv []string) {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "capprobe: exec needs a program")
		os.Exit(2)
	}
	err := syscall.Exec(argv[0], argv, os.Environ())
	fmt.Fprintln(os.Stderr, "capprobe: exec:", err)
	os.Exit(1)
}

func waitForSignal() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

// probe changes a file's owner to another user (CAP_CHOWN) and reads and
// writes /dev/null (character device 1:3). Failures are reported but do not
// stop it: under a seccomp profile the chown is meant to fail.
func probe() {
	chownFile()
	null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "capprobe: open /dev/null:", err)
		return
	}
	if _, err := null.Write([]byte("x")); err != nil {
		fmt.Fprintln(os.Stderr, "capprobe: write /dev/null:", err)
	}
	null.Close()
	fmt.Println("capprobe: /dev/null ok")
}

// chownFile creates a file and gives it to another user: CAP_CHOWN.
func chownFile() {
	const path = "/capprobe-file"
	if err := os.WriteFile(path, []byte("capprobe\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "capprobe: create:", err)
	}
	if err := os.Chown(path, 4242, 4242); err != nil {
		fmt.Fprintln(os.Stderr, "capprobe: chown:", err)
	} else {
		fmt.Println("capprobe: chown ok")
	}
}

// keepCaps switches to user nobody keeping CAP_NET_RAW, as dnsmasq and
// chronyd keep what they need: PR_SET_KEEPCAPS keeps the permitted set across
// setuid, then capset narrows it to CAP_NET_RAW and raises it in the
// effective set. The kernel makes no capability check for that capset.
func keepCaps() {
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		fail("prctl(PR_SET_KEEPCAPS)", err)
	}
	if err := syscall.Setuid(65534); err != nil {
		fail("setuid", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	data[0].Permitted = 1 << unix.CAP_NET_RAW
	data[0].Effective = 1 << unix.CAP_NET_RAW
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		fail("capset", err)
	}
	fmt.Println("capprobe: kept CAP_NET_RAW as uid 65534")
}

// seccompWithoutNoNewPrivs installs a filter that allows every system call,
// on this thread only, without setting no_new_privs first: the kernel then
// asks for CAP_SYS_ADMIN (seccomp_prepare_filter, unaudited) and refuses
// the filter with EACCES without it.
func seccompWithoutNoNewPrivs() {
	runtime.LockOSThread()
	nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		fail("prctl(PR_GET_NO_NEW_PRIVS)", err)
	}
	if nnp != 0 {
		fail("seccomp", fmt.Errorf("no_new_privs is already set: the kernel would make no capability check"))
	}
	allow := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW}}
	prog := unix.SockFprog{Len: uint16(len(allow)), Filter: &allow[0]}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&prog))); errno != 0 {
		fmt.Fprintln(os.Stderr, "capprobe: seccomp:", errno)
		return
	}
	fmt.Println("capprobe: seccomp filter installed without no_new_privs")
}

// statOtherUID reads /proc/PID/stat of a process of uid 1000 as root: the
// kernel asks for CAP_SYS_PTRACE, unaudited, to decide whether to show the
// child's code and stack addresses, and shows zeros without it.
func statOtherUID() {
	pid, stop := startOtherUID()
	defer stop()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		fail("read the child's stat", err)
	}
	// Field 26 (startcode) is 1 when the reader may not see the address.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	fmt.Printf("capprobe: read /proc/%d/stat of uid 1000 (startcode %s)\n", pid, fields[23])
}

// environOtherUID reads /proc/PID/environ of a process of uid 1000 as root:
// the kernel asks for CAP_SYS_PTRACE, audited, and refuses the read without
// it. The same ptrace_may_access as stat's, without PTRACE_MODE_NOAUDIT.
func environOtherUID() {
	pid, stop := startOtherUID()
	defer stop()
	if _, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ"); err != nil {
		fmt.Fprintln(os.Stderr, "capprobe: read the child's environ:", err)
		return
	}
	fmt.Printf("capprobe: read /proc/%d/environ of uid 1000\n", pid)
}

// startOtherUID starts "capprobe sleep" as uid and gid 1000 and returns its
// pid once it runs as that user, and a function that kills it.
func startOtherUID() (int, func()) {
	child := exec.Command("/proc/self/exe", "sleep")
	child.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
	out, err := child.StdoutPipe()
	if err != nil {
		fail("pipe", err)
	}
	if err := child.Start(); err != nil {
		fail("start the uid 1000 child", err)
	}
	stop := func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	}
	// The child says "ready" after its exec, when it runs as uid 1000.
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		stop()
		fail("wait for the child", fmt.Errorf("read %q: %v", line, err))
	}
	return child.Process.Pid, stop
}

// landlockWithoutNoNewPrivs enforces, on this thread only, a Landlock
// ruleset that forbids creating block devices, without no_new_privs: the
// kernel asks for CAP_SYS_ADMIN (unaudited) and refuses it without.
func landlockWithoutNoNewPrivs() {
	runtime.LockOSThread()
	// The first field of struct landlock_ruleset_attr, which every Landlock
	// ABI accepts alone.
	attr := struct{ handledAccessFS uint64 }{unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK}
	fd, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	if errno != 0 {
		fail("landlock_create_ruleset", errno)
	}
	defer unix.Close(int(fd))
	if _, _, errno := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, fd, 0, 0); errno != 0 {
		fmt.Fprintln(os.Stderr, "capprobe: landlock_restrict_self:", errno)
		return
	}
	fmt.Println("capprobe: landlock ruleset enforced without no_new_privs")
}

// listTmpfsXattrs lists the extended attributes of /dev/shm, a tmpfs: the
// kernel asks for CAP_SYS_ADMIN, unaudited, to decide whether to list the
// trusted.* ones, and leaves them out without it.
func listTmpfsXattrs() {
	buf := make([]byte, 4096)
	n, err := unix.Listxattr("/dev/shm", buf)
	if err != nil {
		fail("listxattr /dev/shm", err)
	}
	fmt.Printf("capprobe: listed %d bytes of /dev/shm's extended attribute names\n", n)
}

func sleepUntilKilled() {
	fmt.Println("ready")
	waitForSignal()
}

// readKallsyms opens /proc/kallsyms: the kernel asks for CAP_SYSLOG,
// unaudited, to decide whether to show addresses, and shows zeros without it.
func readKallsyms() {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		fail("open /proc/kallsyms", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		fail("read /proc/kallsyms", err)
	}
	addr, _, _ := strings.Cut(line, " ")
	fmt.Printf("capprobe: read /proc/kallsyms (addresses shown: %v)\n", strings.Trim(addr, "0") != "")
}

// vmAccounting maps private writable memory and forks: both are charged
// against the overcommit limit, and the kernel asks for CAP_SYS_ADMIN,
// unaudited, only to pick the reserve it keeps back.
func vmAccounting() {
	const size = 1 << 20
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		fail("mmap", err)
	}
	mem[0] = 1
	if err := unix.Munmap(mem); err != nil {
		fail("munmap", err)
	}
	pid, errno := forkAndExit()
	if errno != 0 {
		fail("fork", errno)
	}
	var status unix.WaitStatus
	if _, err := unix.Wait4(int(pid), &status, 0, nil); err != nil {
		fail("wait for the fork", err)
	}
	fmt.Println("capprobe: mapped 1 MiB and forked")
}

// forkAndExit forks a copy of the process that exits at once. A fork (not
// Go's vfork-like clone) copies the address space, and dup_mmap accounts for
// its private writable mappings. The child runs only the raw exit.
//
//go:nosplit
func forkAndExit() (uintptr, syscall.Errno) {
	pid, _, errno := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	if pid == 0 {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	return pid, 0
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "capprobe: %s: %v\n", what, err)
	os.Exit(1)
}
