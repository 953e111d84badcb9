// Command capprobe is the workload of the tracer's end-to-end tests: run as a
// container's entrypoint, it makes a few privileged requests the tests then
// look for in a snapshot. It is built statically and imported into an image
// of its own, so its comm is "capprobe".
package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	mode := "probe"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "probe":
		probe()
	case "keepcaps":
		keepCaps()
	case "exec":
		// Execute another program (os.Args[2:]) in place of this one, as a
		// shell running a program does.
		if len(os.Args) < 3 {
			fmt.Fprintln(os.Stderr, "capprobe: exec needs a program")
			os.Exit(2)
		}
		err := syscall.Exec(os.Args[2], os.Args[2:], os.Environ())
		fmt.Fprintln(os.Stderr, "capprobe: exec:", err)
		os.Exit(1)
	case "wait":
		// Stay up for docker exec until stopped.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop
	default:
		fmt.Fprintf(os.Stderr, "capprobe: unknown mode %q\n", mode)
		os.Exit(2)
	}
}

// probe changes a file's owner to another user (CAP_CHOWN) and reads and
// writes /dev/null (character device 1:3). Failures are reported but do not
// stop it: under a seccomp profile the chown is meant to fail.
func probe() {
	const path = "/capprobe-file"
	if err := os.WriteFile(path, []byte("capprobe\n"), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "capprobe: create:", err)
	}
	if err := os.Chown(path, 4242, 4242); err != nil {
		fmt.Fprintln(os.Stderr, "capprobe: chown:", err)
	} else {
		fmt.Println("capprobe: chown ok")
	}
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

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "capprobe: %s: %v\n", what, err)
	os.Exit(1)
}
