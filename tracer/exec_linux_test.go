//go:build linux && (amd64 || arm64)

package tracer

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/capprof/capprof/internal/testutil"
	"github.com/moby/sys/capability"
)

// fileCapsXattr encodes a security.capability value (struct vfs_cap_data,
// revision 2) granting caps as permitted with the effective bit set: what
// `setcap caps+ep` writes.
func fileCapsXattr(caps ...capability.Cap) string {
	var permitted uint64
	for _, c := range caps {
		permitted |= 1 << uint(c)
	}
	const revision2, effective = 0x02000000, 0x000001
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], revision2|effective)
	binary.LittleEndian.PutUint32(b[4:], uint32(permitted))      // permitted, low word
	binary.LittleEndian.PutUint32(b[12:], uint32(permitted>>32)) // permitted, high word
	return string(b)
}

// privilegedExecImage is capprobe's image with two more copies of it: one
// carrying the file capability CAP_NET_RAW (+ep) and one setuid root.
func privilegedExecImage(t *testing.T) string {
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
	sum := sha256.Sum256(append([]byte("privileged-exec-v1\x00"), content...))
	digest := hex.EncodeToString(sum[:])
	image := "capprof-tracer-privexec:" + digest[:16]
	if exec.Command("docker", "image", "inspect", image).Run() == nil {
		return image
	}

	var rootfs bytes.Buffer
	tw := tar.NewWriter(&rootfs)
	files := []tar.Header{
		{Name: "capprobe", Mode: 0o755},
		{Name: "capprobe-fcap", Mode: 0o755, PAXRecords: map[string]string{
			"SCHILY.xattr.security.capability": fileCapsXattr(capability.CAP_NET_RAW),
		}},
		{Name: "capprobe-suid", Mode: 0o4755},
	}
	for _, h := range files {
		h.Typeflag = tar.TypeReg
		h.Size = int64(len(content))
		h.Format = tar.FormatPAX
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(content); err != nil {
			t.Fatal(err)
		}
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

// TestExecsRecordWhatTheyGained runs, as user 1000 in a read-only
// container, a plain program, one with a file capability and one setuid
// root, each through docker exec. The snapshot must say which exec gained
// what, mark the runtime's checks for the docker exec as exec set-up, and
// keep the paths whose write open failed with EROFS.
func TestExecsRecordWhatTheyGained(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireDocker(t)
	image := privilegedExecImage(t)
	tr := startTracer(t)

	hostname := randomHostname(t)
	id := strings.TrimSpace(dockerRun(t, "run", "--detach", "--network", "none", "--hostname", hostname,
		"--read-only", "--cap-drop", "ALL", "--cap-add", "NET_RAW", "--cap-add", "SETUID", "--cap-add", "SETGID",
		image, "wait"))
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "--force", id).Run() })
	// runc gives a docker exec'd process of another user the container's
	// capabilities up to its exec; the programs are executed by a plain
	// program that has none left, as a shell would run them.
	for _, prog := range []string{"/capprobe", "/capprobe-fcap", "/capprobe-suid"} {
		// probe's own failures (read-only root, no CAP_CHOWN) are expected; it exits 0.
		dockerRun(t, "exec", "--user", "1000:1000", id, "/capprobe", "exec", prog, "probe")
	}

	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	ctr := containerSnapshot(t, snap, hostname)
	byPath := map[string]Exec{}
	for _, e := range ctr.Execs {
		byPath[e.Path] = e
	}
	t.Logf("execs: %+v", ctr.Execs)

	netRaw := uint64(1) << uint(capability.CAP_NET_RAW)
	if e, ok := byPath["/capprobe"]; !ok || e.Count != 5 {
		t.Errorf("/capprobe: %+v, want the entrypoint, three docker execs and one exec by capprobe (5 execs)", e)
	} else if e.CapsGained != 0 || e.IDChanges != 0 {
		t.Errorf("/capprobe gained something: %+v", e)
	}
	if e, ok := byPath["/capprobe-fcap"]; !ok || e.Count != 1 {
		t.Errorf("/capprobe-fcap: %+v, want one exec", e)
	} else if e.CapsGained != netRaw || e.IDChanges != 0 {
		t.Errorf("/capprobe-fcap: caps gained %#x, id changes %d; want CAP_NET_RAW (%#x) and none", e.CapsGained, e.IDChanges, netRaw)
	}
	if e, ok := byPath["/capprobe-suid"]; !ok || e.Count != 1 {
		t.Errorf("/capprobe-suid: %+v, want one exec", e)
	} else if e.IDChanges != 1 || e.UID != 1000 || e.EUIDBefore != 1000 || e.EUIDAfter != 0 || e.EGIDAfter != 1000 {
		t.Errorf("/capprobe-suid: %+v, want one id change by uid 1000 from euid 1000 to 0, egid 1000 kept", e)
	}

	// runc's init for docker exec --user switches ids inside the container:
	// exec set-up. The container's own start comes before its workload.
	if !slices.ContainsFunc(ctr.CapChecks, func(c CapCheck) bool { return c.ExecSetup && !c.Workload }) {
		t.Error("no capability check marked as docker exec set-up")
	}
	for _, c := range ctr.CapChecks {
		if c.ExecSetup && c.Workload {
			t.Errorf("workload check marked as exec set-up: %+v", c)
		}
	}

	if !slices.ContainsFunc(ctr.ReadonlyWrites, func(w ReadonlyWrite) bool {
		return w.Path == "/capprobe-file" && w.Count >= 3
	}) {
		t.Errorf("read-only writes %+v, want /capprobe-file from each probe", ctr.ReadonlyWrites)
	}
}
