//go:build linux && (amd64 || arm64)

package tracer

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/capprof/capprof/internal/testutil"
)

// The tests in this file repeat the runc ones under crun, the other OCI
// runtime Docker can use. crun, a C program, keeps its comm "crun" through
// the whole set-up (runc's init renames itself "runc:[2:INIT]"), and the
// container's first process is crun's own child until it execs the
// entrypoint: only that exec tells the set-up from the workload.

// crunRuntime is the name scripts/start-dockerd.sh registers crun under.
const crunRuntime = "crun"

// crunComm is the comm of crun's processes, set-up and exec alike.
const crunComm = "crun"

// requireCrun skips the test unless dockerd knows the crun runtime, or
// fails it when end-to-end tests are required.
func requireCrun(t *testing.T) {
	t.Helper()
	testutil.RequireDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{json .Runtimes}}").CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"`+crunRuntime+`":`) {
		testutil.Skip(t, "needs dockerd with the crun runtime: run scripts/install-deps.sh, then scripts/start-dockerd.sh (runtimes: "+strings.TrimSpace(string(out))+")")
	}
}

// hasFrame tells whether the check's kernel stack passes through fn.
func hasFrame(c CapCheck, fn string) bool {
	return slices.Contains(c.Stack, fn)
}

func TestCrunContainerWorkloadAndRuntimeSetup(t *testing.T) {
	testutil.RequireRoot(t)
	requireCrun(t)
	image := probeImage(t)
	tr := startTracer(t)

	hostname := randomHostname(t)
	cidfile := filepath.Join(t.TempDir(), "cid")
	dockerRun(t, "run", "--rm", "--runtime", crunRuntime, "--network", "none", "--hostname", hostname,
		"--cidfile", cidfile, "--cap-drop", "ALL", "--cap-add", "CHOWN", image, "probe")

	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	ctr := containerSnapshot(t, snap, hostname)

	t.Run("crun set the container up", func(t *testing.T) {
		if !slices.ContainsFunc(ctr.CapChecks, func(c CapCheck) bool { return c.Comm == crunComm }) {
			t.Errorf("no capability check by a process named %q: did the container run under crun?", crunComm)
		}
		for _, c := range ctr.CapChecks {
			if strings.HasPrefix(c.Comm, "runc") {
				t.Fatalf("a runc process ran in the container: %+v", c)
			}
		}
	})
	t.Run("the namespace carries the container's cgroup", func(t *testing.T) {
		// With the cgroupfs driver Docker asks for cgroupsPath /docker/<id>
		// and crun creates it as asked, as runc does; with the systemd
		// driver both name it docker-<id>.scope.
		cid, err := os.ReadFile(cidfile)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSpace(string(cid))
		for _, n := range ctr.Namespaces {
			t.Logf("namespace %d cgroup %q", n.MntNS, n.Cgroup)
		}
		if len(ctr.Namespaces) != 1 || !strings.Contains(ctr.Namespaces[0].Cgroup, id) {
			t.Errorf("namespaces = %+v, want one whose cgroup is named after container %s", ctr.Namespaces, id)
		}
	})
	t.Run("crun set-up checks are not workload", func(t *testing.T) {
		// Each kind of set-up must have been seen, or the test proves nothing.
		setup := map[string]func(CapCheck) bool{
			"SETPCAP (capability drop)": func(c CapCheck) bool { return c.Cap == capSetpcap },
			"SYS_ADMIN mount":           func(c CapCheck) bool { return c.Cap == capSysAdmin && hasFrame(c, "path_mount") },
			"SYS_ADMIN pivot_root":      func(c CapCheck) bool { return c.Cap == capSysAdmin && hasFrame(c, "__do_sys_pivot_root") },
			"SYS_ADMIN seccomp filter":  func(c CapCheck) bool { return c.Cap == capSysAdmin && hasFrame(c, "do_seccomp") },
		}
		for name, match := range setup {
			found := false
			for _, c := range ctr.CapChecks {
				if !match(c) {
					continue
				}
				found = true
				if c.Workload {
					t.Errorf("%s check marked as workload: %+v", name, c)
				}
			}
			if !found {
				t.Errorf("no %s check from crun's set-up", name)
			}
		}
		for _, c := range ctr.CapChecks {
			if c.Comm == crunComm && c.Workload {
				t.Errorf("crun's check marked as workload: %+v", c)
			}
		}
		for _, d := range ctr.Devices {
			if d.Comm == crunComm && d.Workload {
				t.Errorf("crun's device access (creating /dev) marked as workload: %+v", d)
			}
		}
	})
	assertProbeWorkload(t, ctr)
}

func TestCrunDockerExecIsWorkload(t *testing.T) {
	testutil.RequireRoot(t)
	requireCrun(t)
	image := probeImage(t)
	tr := startTracer(t)

	hostname := randomHostname(t)
	id := strings.TrimSpace(dockerRun(t, "run", "--detach", "--runtime", crunRuntime, "--network", "none",
		"--hostname", hostname, "--cap-drop", "ALL", "--cap-add", "CHOWN", image, "wait"))
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "--force", id).Run() })
	dockerRun(t, "exec", id, "/capprobe", "probe")

	snap, err := tr.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	ctr := containerSnapshot(t, snap, hostname)
	if len(ctr.Namespaces) != 1 || !strings.Contains(ctr.Namespaces[0].Cgroup, id) {
		t.Errorf("namespaces = %+v, want one whose cgroup is named after container %s", ctr.Namespaces, id)
	}

	// The entrypoint only waits: a CAP_CHOWN check is the exec'd command's.
	if !slices.ContainsFunc(ctr.CapChecks, func(c CapCheck) bool {
		return c.Cap == capChown && !c.Denied && c.Workload && c.Comm == probeComm
	}) {
		t.Error("no granted CAP_CHOWN workload check from the docker exec'd command")
	}
	// crun exec joins the namespaces, drops capabilities and installs the
	// filter again before its execve: none of that is the workload's.
	if !slices.ContainsFunc(ctr.CapChecks, func(c CapCheck) bool { return hasFrame(c, "__do_sys_setns") }) {
		t.Error("no setns check from crun exec joining the container")
	}
	for _, c := range ctr.CapChecks {
		if hasFrame(c, "__do_sys_setns") && c.Workload {
			t.Errorf("crun exec's setns check marked as workload: %+v", c)
		}
		if c.Comm == crunComm && c.Workload {
			t.Errorf("crun's check marked as workload: %+v", c)
		}
		if c.Cap == capSetpcap && c.Workload {
			t.Errorf("CAP_SETPCAP (crun's capability drop) marked as workload: %+v", c)
		}
	}
}
