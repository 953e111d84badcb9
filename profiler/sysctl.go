package profiler

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/capprof/capprof/profiles"
)

// Namespaced sysctls: a service that writes them needed privileged only
// because /proc/sys is read-only without it. compose's sysctls: sets them at
// start instead. They are read from the host by entering the container's
// network and IPC namespaces on a locked thread (procfs resolves
// /proc/sys/net and the IPC keys by the reading task's namespaces).

// dockerDefaultSysctls are the namespaced sysctls Docker 20.10 sets in every
// container, measured by comparing a plain `docker run` container with a fresh
// unshared network + IPC namespace (TestDockerDefaultSysctls keeps it honest).
var dockerDefaultSysctls = map[string]string{
	"net.ipv4.ip_unprivileged_port_start": "0",
	"net.ipv4.ping_group_range":           "0 2147483647",
	// Docker disables IPv6 in containers of networks without IPv6.
	"net.ipv6.conf.all.disable_ipv6":     "1",
	"net.ipv6.conf.default.disable_ipv6": "1",
}

// hostInheritedSysctls are keys a new network namespace copies from the
// host's initial one (net.core.devconf_inherit_init_net=0, the default, makes
// IPv4's conf.all/default inherit), with the kernel's own default. Docker
// turns IPv4 forwarding on on the host, so every container starts with
// ip_forward=1 here and a service that sets it would show no change. The
// trace run sets these to the kernel default instead (unless the service
// declares them), so the service's own write shows; a host without Docker's
// forwarding gives containers 0 too.
var hostInheritedSysctls = map[string]string{
	"net.ipv4.ip_forward": "0",
}

// traceSysctls are the sysctls the trace run sets for the traced service:
// hostInheritedSysctls the service does not declare itself, when it has a
// network namespace of its own.
func traceSysctls(declared map[string]string, ownNet bool) map[string]string {
	out := map[string]string{}
	if !ownNet {
		return out
	}
	for k, v := range hostInheritedSysctls {
		if _, ok := declared[k]; !ok {
			out[k] = v
		}
	}
	return out
}

// ipcSysctl says whether a key belongs to the IPC namespace.
func ipcSysctl(key string) bool {
	switch {
	case key == "kernel.sem",
		strings.HasPrefix(key, "kernel.shm"),
		strings.HasPrefix(key, "kernel.msg"),
		strings.HasPrefix(key, "fs.mqueue."):
		return true
	}
	return false
}

// volatileSysctls change on their own (counters, per-boot randomness) and
// say nothing about what the service set.
// net.ipv4.conf.all.forwarding is the same value as net.ipv4.ip_forward,
// which alone is reported.
var volatileSysctls = map[string]bool{
	"net.ipv4.conf.all.forwarding":     true,
	"net.netfilter.nf_conntrack_count": true,
	"net.ipv4.tcp_fastopen_key":        true,
	"net.core.netdev_rss_key":          true,
}

// keepSysctl filters out per-interface keys (they name a device the fresh
// namespace has not got, and compose cannot set them before the device
// exists) and volatile ones.
func keepSysctl(key string) bool {
	if volatileSysctls[key] {
		return false
	}
	parts := strings.Split(key, ".")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "conf" && parts[0] == "net" && (parts[1] == "ipv4" || parts[1] == "ipv6") && i == 2 ||
			parts[i] == "neigh" && parts[0] == "net" {
			if ifname := parts[i+1]; ifname != "all" && ifname != "default" {
				return false
			}
		}
	}
	return true
}

// sysctlKey turns a path below /proc/sys into a dotted key.
func sysctlKey(rel string) string {
	return strings.ReplaceAll(filepath.ToSlash(rel), "/", ".")
}

// normalizeSysctl trims what procfs appends and folds runs of blanks, so
// "0 2147483647" and "0\t2147483647" compare equal (compose gets the spaces).
func normalizeSysctl(v string) string {
	return strings.Join(strings.Fields(v), " ")
}

// diffSysctls returns the keys whose value in got differs from the fresh
// namespace's, after Docker's defaults and the service's own compose
// sysctls, sorted. Keys missing from base (a module loaded meanwhile) are
// left out: there is nothing to compare with.
func diffSysctls(got, fresh, docker, declared map[string]string) []profiles.SysctlChange {
	base := map[string]string{}
	for k, v := range fresh {
		base[k] = normalizeSysctl(v)
	}
	for _, m := range []map[string]string{docker, declared} {
		for k, v := range m {
			if _, ok := base[k]; ok {
				base[k] = normalizeSysctl(v)
			}
		}
	}
	var out []profiles.SysctlChange
	for k, v := range got {
		if !keepSysctl(k) {
			continue
		}
		b, ok := base[k]
		if !ok {
			continue
		}
		if v = normalizeSysctl(v); v != b {
			out = append(out, profiles.SysctlChange{Key: k, Value: v, Baseline: b})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// readSysctlTree reads every readable file below /proc/sys/<sub> whose key
// passes want; write-only and unreadable files are skipped.
func readSysctlTree(sub string, want func(string) bool, into map[string]string) {
	root := "/proc/sys"
	_ = filepath.WalkDir(filepath.Join(root, sub), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		key := sysctlKey(rel)
		if !want(key) || !keepSysctl(key) {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Mode().Perm()&0o444 == 0 {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		into[key] = strings.TrimRight(string(b), "\n")
		return nil
	})
}

// readNamespacedSysctls reads the net and IPC namespaced sysctls as the
// current thread's namespaces see them.
func readNamespacedSysctls() map[string]string {
	out := map[string]string{}
	readSysctlTree("net", func(string) bool { return true }, out)
	readSysctlTree("kernel", ipcSysctl, out)
	readSysctlTree("fs/mqueue", ipcSysctl, out)
	return out
}

// inThreadNamespaces runs fn on a locked OS thread after enter switched its
// network and IPC namespaces, then switches back. A thread that cannot be
// switched back is never unlocked, so the runtime discards it with the
// goroutine.
func inThreadNamespaces(enter func() error, fn func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		tid := unix.Gettid()
		var saved []int
		for _, ns := range []struct {
			name string
			typ  int
		}{{"net", unix.CLONE_NEWNET}, {"ipc", unix.CLONE_NEWIPC}} {
			fd, err := unix.Open(fmt.Sprintf("/proc/self/task/%d/ns/%s", tid, ns.name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				for _, f := range saved {
					unix.Close(f)
				}
				runtime.UnlockOSThread()
				errc <- fmt.Errorf("open own %s namespace: %w", ns.name, err)
				return
			}
			saved = append(saved, fd, ns.typ)
		}
		restore := func() bool {
			ok := true
			for i := 0; i < len(saved); i += 2 {
				if err := unix.Setns(saved[i], saved[i+1]); err != nil {
					ok = false
				}
				unix.Close(saved[i])
			}
			return ok
		}
		err := enter()
		if err == nil {
			fn()
		}
		if !restore() {
			// Leave the thread locked: it exits with this goroutine.
			errc <- fmt.Errorf("switch back to the host's namespaces failed; the thread is discarded")
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}

// containerSysctls reads the namespaced sysctls of the process pid's
// network and IPC namespaces.
func containerSysctls(pid int) (map[string]string, error) {
	var out map[string]string
	err := inThreadNamespaces(func() error {
		for _, ns := range []struct {
			name string
			typ  int
		}{{"net", unix.CLONE_NEWNET}, {"ipc", unix.CLONE_NEWIPC}} {
			fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, ns.name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return fmt.Errorf("open %s namespace of pid %d: %w", ns.name, pid, err)
			}
			err = unix.Setns(fd, ns.typ)
			unix.Close(fd)
			if err != nil {
				return fmt.Errorf("enter %s namespace of pid %d: %w", ns.name, pid, err)
			}
		}
		return nil
	}, func() { out = readNamespacedSysctls() })
	return out, err
}

// freshSysctls reads the namespaced sysctls of a new network and IPC
// namespace, which disappears again with the thread's switch back, after
// writing set into it (in key order) and then then (in its order), as the
// runtime writes a container's sysctls at start. Some writes change other
// keys too: ip_forward sets conf.all/default.forwarding and flips
// conf.all.accept_redirects, so the baseline must have them made, not only
// overlaid. A write the fresh namespace refuses (a key it lacks) is left to
// the overlay in diffSysctls.
func freshSysctls(set map[string]string, then ...profiles.SysctlChange) (map[string]string, error) {
	var out map[string]string
	err := inThreadNamespaces(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET | unix.CLONE_NEWIPC); err != nil {
			return fmt.Errorf("unshare network and IPC namespaces: %w", err)
		}
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		writes := make([]profiles.SysctlChange, 0, len(keys)+len(then))
		for _, k := range keys {
			writes = append(writes, profiles.SysctlChange{Key: k, Value: set[k]})
		}
		for _, w := range append(writes, then...) {
			if strings.Contains(w.Key, "/") || strings.Contains(w.Key, "..") {
				continue
			}
			path := filepath.Join("/proc/sys", strings.ReplaceAll(w.Key, ".", "/"))
			_ = os.WriteFile(path, []byte(w.Value), 0)
		}
		return nil
	}, func() { out = readNamespacedSysctls() })
	return out, err
}

// serviceSysctls compares the container's namespaced sysctls with a fresh
// namespace's plus Docker's defaults and the service's declared ones.
func serviceSysctls(pid int, declared map[string]string) ([]profiles.SysctlChange, error) {
	got, err := containerSysctls(pid)
	if err != nil {
		return nil, err
	}
	runtimeSet := mergeSysctls(dockerDefaultSysctls, declared)
	fresh, err := freshSysctls(runtimeSet)
	if err != nil {
		return nil, err
	}
	changes := diffSysctls(got, fresh, dockerDefaultSysctls, declared)
	// remaining is what still differs from the service's values once the
	// runtime has written its own set and then, in this order, writes.
	remaining := func(writes []profiles.SysctlChange) ([]profiles.SysctlChange, error) {
		after, err := freshSysctls(runtimeSet, writes...)
		if err != nil {
			return nil, err
		}
		over := map[string]string{}
		for _, w := range writes {
			over[w.Key] = w.Value
		}
		return diffSysctls(got, after, dockerDefaultSysctls, mergeSysctls(declared, over)), nil
	}
	return settleSysctls(changes, remaining)
}

// settleSysctls turns the keys that differ from a fresh container into the
// sysctls the override must set: it adds the keys the runtime's writes of
// them change back (writing ip_forward flips conf.all.accept_redirects,
// which the service may have set afterwards), drops the keys that follow
// from the others (conf.default.forwarding from ip_forward), and notes on
// each change when the result depends on the order of the writes, which
// the runtime does not fix. remaining(writes) is what still differs after
// writes are made in order; a failing namespace leaves the changes as found.
func settleSysctls(changes []profiles.SysctlChange, remaining func([]profiles.SysctlChange) ([]profiles.SysctlChange, error)) ([]profiles.SysctlChange, error) {
	if len(changes) == 0 {
		return changes, nil
	}
	set := slices.Clone(changes)
	for range 4 {
		left, err := remaining(set)
		if err != nil {
			return changes, err
		}
		if len(left) == 0 {
			break
		}
		for _, l := range left {
			i := slices.IndexFunc(set, func(c profiles.SysctlChange) bool { return c.Key == l.Key })
			if i < 0 {
				set = append(set, l)
			} else {
				set[i].Value = l.Value
			}
		}
		slices.SortFunc(set, func(a, b profiles.SysctlChange) int { return strings.Compare(a.Key, b.Key) })
	}
	for i := 0; i < len(set) && len(set) > 1; {
		trial := slices.Delete(slices.Clone(set), i, i+1)
		left, err := remaining(trial)
		if err != nil {
			return changes, err
		}
		if len(left) == 0 {
			set = trial
			continue
		}
		i++
	}
	if len(set) < 2 || len(set) > 4 {
		return set, nil
	}
	var wrong []string
	for _, order := range permutations(set) {
		left, err := remaining(order)
		if err != nil {
			return set, err
		}
		if len(left) > 0 {
			keys := make([]string, 0, len(order))
			for _, c := range order {
				keys = append(keys, c.Key)
			}
			wrong = append(wrong, strings.Join(keys, " then "))
		}
	}
	if len(wrong) > 0 {
		note := "these sysctls change one another, and the runtime writes them in no fixed order; written " + wrong[0] + ", the service's values do not result"
		for i := range set {
			set[i].Note = note
		}
	}
	return set, nil
}

// permutations returns every order of s (len(s)! of them).
func permutations(s []profiles.SysctlChange) [][]profiles.SysctlChange {
	if len(s) <= 1 {
		return [][]profiles.SysctlChange{slices.Clone(s)}
	}
	var out [][]profiles.SysctlChange
	for i := range s {
		rest := slices.Delete(slices.Clone(s), i, i+1)
		for _, p := range permutations(rest) {
			out = append(out, append([]profiles.SysctlChange{s[i]}, p...))
		}
	}
	return out
}

// sysctlScopes says whether the service has network and IPC namespaces of
// its own: sysctls of a namespace it shares with the host or another
// container are not its to set (Docker refuses them), nor to report.
func sysctlScopes(networkMode, ipc string) (ownNet, ownIPC bool) {
	shared := func(mode string) bool {
		return mode == "host" || strings.HasPrefix(mode, "container:") || strings.HasPrefix(mode, "service:")
	}
	return !shared(networkMode), !shared(ipc)
}

// inScope keeps the changes of the namespaces the service owns.
func inScope(changes []profiles.SysctlChange, ownNet, ownIPC bool) []profiles.SysctlChange {
	var out []profiles.SysctlChange
	for _, c := range changes {
		if ipcSysctl(c.Key) && ownIPC || !ipcSysctl(c.Key) && ownNet {
			out = append(out, c)
		}
	}
	return out
}

// mergeSysctls returns the union of the maps, later ones winning.
func mergeSysctls(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
