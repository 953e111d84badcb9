//go:build linux && (amd64 || arm64)

package tracer

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/capprof/capprof/internal/testutil"
	"golang.org/x/sys/unix"
)

// Capability numbers from include/uapi/linux/capability.h.
const (
	capChown    = 0
	capSetpcap  = 8
	capNetRaw   = 13
	capSysAdmin = 21
)

// chownNrs are the calls capprobe's os.Chown makes: Go's syscall package
// implements chown with fchownat on Linux.
var chownNrs = map[int]bool{unix.SYS_FCHOWNAT: true}

// probeComm is the comm of testdata/capprobe inside its container.
const probeComm = "capprobe"

func TestMntNSOf(t *testing.T) {
	self, err := MntNSOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if self == 0 {
		t.Error("MntNSOf(self) = 0")
	}
	if _, err := MntNSOf(-1); err == nil {
		t.Error("MntNSOf(-1) succeeded, want an error")
	}
	if _, err := MntNSIDOf(-1); err == nil {
		t.Error("MntNSIDOf(-1) succeeded, want an error")
	}
}

// startTracer starts a tracer that the test's cleanup closes.
func startTracer(t *testing.T) *Tracer {
	t.Helper()
	testutil.RequireRoot(t)
	tr, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	for _, note := range tr.Notes() {
		t.Logf("tracer note: %s", note)
	}
	return tr
}

func TestNewAttachesAndCloses(t *testing.T) {
	tr := startTracer(t)
	var fs unix.Statfs_t
	if err := unix.Statfs(tracefsPath, &fs); err != nil || fs.Type != unix.TRACEFS_MAGIC {
		t.Errorf("tracefs is not mounted at %s after New (err %v)", tracefsPath, err)
	}
	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	host, err := MntNSOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if snap.HostMntNS != host {
		t.Errorf("HostMntNS = %d, want %d", snap.HostMntNS, host)
	}
	for _, s := range snap.Syscalls {
		if s.MntNS == host {
			t.Fatalf("a syscall of the host mount namespace was recorded: %+v", s)
		}
	}
}

func TestContainerWorkloadAndRuntimeSetup(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	image := probeImage(t)
	tr := startTracer(t)

	hostname := randomHostname(t)
	cidfile := filepath.Join(t.TempDir(), "cid")
	dockerRun(t, "run", "--rm", "--network", "none", "--hostname", hostname, "--cidfile", cidfile,
		"--cap-drop", "ALL", "--cap-add", "CHOWN", image, "probe")

	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	ctr := containerSnapshot(t, snap, hostname)

	t.Run("the namespace carries the container's cgroup", func(t *testing.T) {
		cid, err := os.ReadFile(cidfile)
		if err != nil {
			t.Fatal(err)
		}
		if len(ctr.Namespaces) == 0 || !strings.Contains(ctr.Namespaces[0].Cgroup, strings.TrimSpace(string(cid))) {
			t.Errorf("namespaces = %+v, want a cgroup named after container %s", ctr.Namespaces, cid)
		}
	})

	assertProbeWorkload(t, ctr)
	t.Run("runc setup checks are not workload", func(t *testing.T) {
		var setpcap int
		for _, c := range ctr.CapChecks {
			if strings.HasPrefix(c.Comm, "runc") && c.Workload {
				t.Errorf("runtime check marked as workload: %+v", c)
			}
			if c.Cap == capSetpcap {
				setpcap++
				if c.Workload {
					t.Errorf("CAP_SETPCAP (runc's capability drop) marked as workload: %+v", c)
				}
			}
		}
		if setpcap == 0 {
			t.Error("no CAP_SETPCAP check from runc's capability drop")
		}
	})
	t.Run("stacks symbolize the memory accounting check", func(t *testing.T) {
		if !slices.ContainsFunc(ctr.CapChecks, func(c CapCheck) bool {
			return c.Cap == capSysAdmin &&
				(slices.Contains(c.Stack, "security_vm_enough_memory_mm") || slices.Contains(c.Stack, "cap_vm_enough_memory"))
		}) {
			t.Error("no CAP_SYS_ADMIN check with security_vm_enough_memory_mm or cap_vm_enough_memory in its stack")
		}
		if !slices.ContainsFunc(ctr.CapChecks, func(c CapCheck) bool {
			return len(c.Stack) > 0 && c.Stack[0] == "cap_capable"
		}) {
			t.Error("no stack starts at cap_capable")
		}
	})
	t.Run("checks with borrowed credentials are foreign", func(t *testing.T) {
		// capprobe holds CAP_CHOWN only: any other capability granted while
		// it runs was checked with someone else's credentials (overlayfs
		// reads its xattrs with the mounter's).
		for _, c := range ctr.CapChecks {
			if c.Comm == probeComm && c.Workload && !c.Denied && c.Cap != capChown && !c.ForeignCred {
				t.Errorf("capability %d granted to capprobe with its own credentials: %+v", c.Cap, c)
			}
		}
		if !slices.ContainsFunc(ctr.CapChecks, func(c CapCheck) bool {
			return c.Comm == probeComm && c.ForeignCred
		}) {
			t.Error("no check of capprobe with foreign credentials (overlayfs xattr checks)")
		}
	})
}

// TestReusedMountNamespaceInode runs two containers one after the other: the
// kernel usually gives the second the first's mount namespace inode. Their
// records must stay apart all the same.
func TestReusedMountNamespaceInode(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	image := probeImage(t)
	tr := startTracer(t)

	granted, refused := randomHostname(t), randomHostname(t)
	dockerRun(t, "run", "--rm", "--network", "none", "--hostname", granted,
		"--cap-drop", "ALL", "--cap-add", "CHOWN", image, "probe")
	dockerRun(t, "run", "--rm", "--network", "none", "--hostname", refused,
		"--cap-drop", "ALL", image, "probe")

	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	first, second := containerSnapshot(t, snap, granted), containerSnapshot(t, snap, refused)
	if first.Namespaces[0].MntNS == second.Namespaces[0].MntNS {
		t.Logf("both containers had mount namespace inode %d", first.Namespaces[0].MntNS)
		if first.Namespaces[0].MntNSID == second.Namespaces[0].MntNSID {
			t.Fatalf("two containers share mount namespace id %d", first.Namespaces[0].MntNSID)
		}
	}
	chown := func(denied bool) func(CapCheck) bool {
		return func(c CapCheck) bool { return c.Cap == capChown && c.Workload && c.Denied == denied }
	}
	if !slices.ContainsFunc(first.CapChecks, chown(false)) || slices.ContainsFunc(first.CapChecks, chown(true)) {
		t.Error("the container with CAP_CHOWN should have granted CAP_CHOWN checks only")
	}
	if !slices.ContainsFunc(second.CapChecks, chown(true)) || slices.ContainsFunc(second.CapChecks, chown(false)) {
		t.Error("the container without CAP_CHOWN should have denied CAP_CHOWN checks only")
	}
}

func TestDockerExecIsWorkload(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	image := probeImage(t)
	tr := startTracer(t)

	hostname := randomHostname(t)
	id := strings.TrimSpace(dockerRun(t, "run", "--detach", "--network", "none", "--hostname", hostname,
		"--cap-drop", "ALL", "--cap-add", "CHOWN", image, "wait"))
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "--force", id).Run() })
	dockerRun(t, "exec", id, "/capprobe", "probe")

	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	ctr := containerSnapshot(t, snap, hostname)

	// The running container's namespace, as user space sees it, is the one recorded.
	pid, err := strconv.Atoi(strings.TrimSpace(dockerRun(t, "inspect", "--format", "{{.State.Pid}}", id)))
	if err != nil {
		t.Fatal(err)
	}
	inum, err := MntNSOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	nsID, err := MntNSIDOf(pid)
	if err != nil {
		t.Fatal(err)
	}
	if n := ctr.Namespaces[0]; len(ctr.Namespaces) != 1 || n.MntNS != inum || n.MntNSID != nsID {
		t.Errorf("recorded namespaces %+v, want one with inode %d and id %d", ctr.Namespaces, inum, nsID)
	}

	// The entrypoint only waits: a CAP_CHOWN check is the exec'd command's.
	if !slices.ContainsFunc(ctr.CapChecks, func(c CapCheck) bool {
		return c.Cap == capChown && !c.Denied && c.Workload && c.Comm == probeComm
	}) {
		t.Error("no granted CAP_CHOWN workload check from the docker exec'd command")
	}
	for _, c := range snap.CapChecks {
		if strings.HasPrefix(c.Comm, "runc") && c.Workload {
			t.Errorf("runtime check marked as workload: %+v", c)
		}
	}
}

func TestSeccompRefusalIsASyscallError(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	image := probeImage(t)
	tr := startTracer(t)

	// Docker's seccomp profile format: allow everything but chown and fchownat.
	profile := filepath.Join(t.TempDir(), "seccomp.json")
	if err := os.WriteFile(profile, []byte(`{
	"defaultAction": "SCMP_ACT_ALLOW",
	"syscalls": [{"names": ["chown", "fchownat"], "action": "SCMP_ACT_ERRNO"}]
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	hostname := randomHostname(t)
	out := dockerRun(t, "run", "--rm", "--network", "none", "--hostname", hostname,
		"--cap-drop", "ALL", "--cap-add", "CHOWN", "--security-opt", "seccomp="+profile, image, "probe")
	if !strings.Contains(out, "operation not permitted") {
		t.Errorf("capprobe's chown was not refused; output:\n%s", out)
	}

	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	ctr := containerSnapshot(t, snap, hostname)

	if !slices.ContainsFunc(ctr.SyscallErrors, func(e SyscallError) bool {
		return chownNrs[e.Nr] && e.Errno == int(unix.EPERM)
	}) {
		t.Error("no EPERM SyscallError for chown/fchownat")
	}
	// A refused call is never entered, so it must not count as a syscall.
	if i := slices.IndexFunc(ctr.Syscalls, func(s Syscall) bool {
		return s.Workload && chownNrs[s.Nr]
	}); i >= 0 {
		t.Errorf("seccomp-refused call counted as entered: %+v", ctr.Syscalls[i])
	}
	// The kernel refused before any capability check.
	if i := slices.IndexFunc(ctr.CapChecks, func(c CapCheck) bool {
		return c.Workload && c.Cap == capChown
	}); i >= 0 {
		t.Errorf("CAP_CHOWN checked although seccomp refused the call: %+v", ctr.CapChecks[i])
	}
}

func TestCapsetKeepAcrossSetuid(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	image := probeImage(t)
	tr := startTracer(t)

	hostname := randomHostname(t)
	out := dockerRun(t, "run", "--rm", "--network", "none", "--hostname", hostname, image, "keepcaps")
	if !strings.Contains(out, "kept CAP_NET_RAW") {
		t.Fatalf("capprobe keepcaps failed; output:\n%s", out)
	}

	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	ctr := containerSnapshot(t, snap, hostname)

	// Docker's default set minus everything but CAP_NET_RAW: a deliberate keep.
	if !slices.ContainsFunc(ctr.CapsetKeeps, func(k CapsetKeep) bool {
		return k.Workload && k.Comm == probeComm && k.Kept == 1<<capNetRaw && k.Count == 1
	}) {
		t.Errorf("capset keeps = %+v, want capprobe's workload keep of CAP_NET_RAW alone", ctr.CapsetKeeps)
	}
	// runc's own capset (to the container's set) is the runtime's, never the workload's.
	for _, k := range ctr.CapsetKeeps {
		if k.Workload && k.Comm != probeComm {
			t.Errorf("capset keep by %q marked as workload: %+v", k.Comm, k)
		}
	}
}

// containerSnapshot returns the part of snap recorded in the container with
// hostname, failing the test when no namespace has that nodename.
func containerSnapshot(t *testing.T, snap *Snapshot, hostname string) *Snapshot {
	t.Helper()
	c := snap.ForNodename(hostname)
	if len(c.Namespaces) == 0 {
		t.Fatalf("no mount namespace with nodename %q among %d namespaces", hostname, len(snap.Namespaces))
	}
	for _, n := range c.Namespaces {
		if n.MntNS == snap.HostMntNS {
			t.Fatalf("the host mount namespace %d was recorded as the container's", snap.HostMntNS)
		}
	}
	logContainer(t, c)
	return c
}

// logContainer writes what the tracer saw of one container to the test log
// (go test -v), for reading what the runtime and the workload did.
func logContainer(t *testing.T, snap *Snapshot) {
	t.Helper()
	for _, n := range snap.Namespaces {
		t.Logf("namespace %d id %d nodename %q first pid %d", n.MntNS, n.MntNSID, n.Nodename, n.FirstPID)
	}
	for _, c := range snap.CapChecks {
		stack := c.Stack
		if len(stack) > 6 {
			stack = stack[:6]
		}
		t.Logf("cap %2d denied=%-5v workload=%-5v foreign=%-5v comm=%-15q count=%-4d %s",
			c.Cap, c.Denied, c.Workload, c.ForeignCred, c.Comm, c.Count, strings.Join(stack, " < "))
	}
	for _, d := range snap.Devices {
		t.Logf("device block=%v %d:%d %s workload=%v comm=%q count=%d", d.Block, d.Major, d.Minor, d.Access, d.Workload, d.Comm, d.Count)
	}
	for _, k := range snap.CapsetKeeps {
		t.Logf("capset keep %#x workload=%v comm=%q count=%d", k.Kept, k.Workload, k.Comm, k.Count)
	}
	for _, e := range snap.SyscallErrors {
		t.Logf("syscall error nr=%d errno=%d count=%d", e.Nr, e.Errno, e.Count)
	}
}

func randomHostname(t *testing.T) string {
	t.Helper()
	return "capproftest-" + rand.Text()[:12]
}

// dockerRun runs the docker CLI and returns its combined output, failing the
// test if it fails.
func dockerRun(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// probeImage builds testdata/capprobe statically and imports it as an image
// holding only /capprobe, tagged by the binary's digest so that later runs
// reuse it. No registry is needed.
func probeImage(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "capprobe")
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", bin, "./testdata/capprobe")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build capprobe: %v\n%s", err, out)
	}
	content, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	image := "capprof-tracer-capprobe:" + digest[:16]
	if exec.Command("docker", "image", "inspect", image).Run() == nil {
		return image
	}

	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	if err := tw.WriteHeader(&tar.Header{Name: "capprobe", Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	imp := exec.Command("docker", "import",
		"--change", `ENTRYPOINT ["/capprobe"]`,
		"--change", "LABEL org.capprof.test.content=sha256:"+digest,
		"-", image)
	imp.Stdin = &rootfs
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("docker import %s: %v\n%s", image, err, out)
	}
	return image
}

// assertProbeWorkload checks what capprobe's "probe" mode does as the
// container's workload, whatever the runtime: a granted CAP_CHOWN with its
// own credentials, the chown syscall, and /dev/null opened read-write.
func assertProbeWorkload(t *testing.T, ctr *Snapshot) {
	t.Helper()
	t.Run("CAP_CHOWN is a granted workload check", func(t *testing.T) {
		// overlayfs repeats the check on the upper layer with the mounter's
		// credentials; the one that counts is made with capprobe's own.
		if !slices.ContainsFunc(ctr.CapChecks, func(c CapCheck) bool {
			return c.Cap == capChown && !c.Denied && c.Workload && !c.ForeignCred && c.Comm == probeComm
		}) {
			t.Error("no granted CAP_CHOWN workload check by capprobe with its own credentials")
		}
	})
	t.Run("fchownat is a workload syscall", func(t *testing.T) {
		if !slices.ContainsFunc(ctr.Syscalls, func(s Syscall) bool {
			return s.Workload && chownNrs[s.Nr]
		}) {
			t.Error("no workload chown/fchownat syscall")
		}
	})
	t.Run("/dev/null is a workload device", func(t *testing.T) {
		if !slices.ContainsFunc(ctr.Devices, func(d DeviceAccess) bool {
			return !d.Block && d.Major == 1 && d.Minor == 3 &&
				d.Access == "rw" && d.Workload && d.Comm == probeComm
		}) {
			t.Error("no workload rw access of character device 1:3 by capprobe")
		}
	})
}
