//go:build linux && (amd64 || arm64)

package tracer

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/rlimit"
)

// Tracer holds the loaded BPF objects and the links attaching them to their
// tracepoints. Its maps keep counting until Close.
type Tracer struct {
	objs      capprofObjects
	links     []link.Link
	notes     []string
	hostMntNS uint32
}

// New mounts tracefs if needed, loads the objects and attaches every program. On any error it calls Close.
func New() (*Tracer, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoBTF, err)
	}

	t := &Tracer{}
	if err := t.start(); err != nil {
		return nil, errors.Join(err, t.Close())
	}
	return t, nil
}

func (t *Tracer) start() error {
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK; later ones
	// make this a no-op.
	if err := rlimit.RemoveMemlock(); err != nil {
		return fmt.Errorf("raise memlock limit for BPF maps: %w", err)
	}

	mounted, err := ensureTracefs()
	if err != nil {
		return err
	}
	if mounted {
		t.notes = append(t.notes, "mounted tracefs at "+tracefsPath+" (left mounted: other tools may use it; umount "+tracefsPath+" to undo)")
	}

	hostMntNS, note, err := hostMountNamespace()
	if err != nil {
		return err
	}
	if note != "" {
		t.notes = append(t.notes, note)
	}
	t.hostMntNS = hostMntNS
	groupDead, err := tracepointHasField("sched", "sched_process_exit", "group_dead")
	if err != nil {
		return err
	}

	spec, err := loadCapprof()
	if err != nil {
		return fmt.Errorf("load BPF object: %w", err)
	}
	consts := map[string]any{
		"host_mntns":          hostMntNS,
		"exit_has_group_dead": boolByte(groupDead),
	}
	for name, nr := range syscallNumbers {
		consts[name] = nr
	}
	for name, value := range consts {
		v, ok := spec.Variables[name]
		if !ok {
			return fmt.Errorf("BPF object has no variable %s", name)
		}
		if err := v.Set(value); err != nil {
			return fmt.Errorf("set BPF variable %s: %w", name, err)
		}
	}

	if err := spec.LoadAndAssign(&t.objs, nil); err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return fmt.Errorf("load BPF programs: %+v", verr)
		}
		return fmt.Errorf("load BPF programs: %w", err)
	}

	attach := []struct {
		group, name string
		prog        *ebpf.Program
	}{
		{"sched", "sched_process_exec", t.objs.HandleExec},
		{"sched", "sched_process_fork", t.objs.HandleFork},
		{"sched", "sched_process_exit", t.objs.HandleExit},
		{"capability", "cap_capable", t.objs.HandleCapCapable},
		{"raw_syscalls", "sys_enter", t.objs.HandleSysEnter},
		{"raw_syscalls", "sys_exit", t.objs.HandleSysExit},
	}
	for _, a := range attach {
		l, err := link.Tracepoint(a.group, a.name, a.prog, nil)
		if err != nil {
			return fmt.Errorf("attach to tracepoint %s:%s: %w", a.group, a.name, err)
		}
		t.links = append(t.links, l)
	}
	return nil
}

// hostMountNamespace returns the mount namespace of pid 1, the host's. Where
// a sandbox hides pid 1 even from root (EACCES), it falls back to capprof's
// own mount namespace and says so in a note: capprof then must run in the
// host's mount namespace, not in a container.
func hostMountNamespace() (mntns uint32, note string, err error) {
	mntns, err = MntNSOf(1)
	if err == nil {
		return mntns, "", nil
	}
	if !errors.Is(err, os.ErrPermission) {
		return 0, "", fmt.Errorf("read the host's mount namespace: %w", err)
	}
	self, selfErr := MntNSOf(os.Getpid())
	if selfErr != nil {
		return 0, "", fmt.Errorf("read the host's mount namespace: %w", errors.Join(err, selfErr))
	}
	return self, fmt.Sprintf("pid 1's mount namespace is not readable (%v): took capprof's own, %d, as the host's", err, self), nil
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// Close detaches links before closing objects.
func (t *Tracer) Close() error {
	var errs []error
	for _, l := range t.links {
		if err := l.Close(); err != nil {
			errs = append(errs, fmt.Errorf("detach BPF program: %w", err))
		}
	}
	t.links = nil
	if err := t.objs.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close BPF objects: %w", err))
	}
	t.objs = capprofObjects{}
	return errors.Join(errs...)
}

// Notes says what New had to do to the host (e.g. "mounted tracefs at /sys/kernel/tracing").
func (t *Tracer) Notes() []string {
	return append([]string(nil), t.notes...)
}

// Snapshot reads all maps (does not clear them) and symbolizes stacks via /proc/kallsyms.
func (t *Tracer) Snapshot() (*Snapshot, error) {
	if t.objs.CapChecks == nil {
		return nil, ErrClosed
	}
	snap := &Snapshot{HostMntNS: t.hostMntNS}

	var (
		ns   capprofMntnsKey
		info capprofNamespaceInfo
	)
	iter := t.objs.Namespaces.Iterate()
	for iter.Next(&ns, &info) {
		snap.Namespaces = append(snap.Namespaces, Namespace{
			MntNS:    ns.Inum,
			MntNSID:  ns.Id,
			Nodename: commString(info.Nodename[:]),
			FirstPID: info.FirstPid,
			Cgroup:   commString(info.Cgroup[:]),
		})
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("read namespaces map: %w", err)
	}

	if err := t.readCapChecks(snap); err != nil {
		return nil, err
	}

	var (
		sysKey capprofSyscallKey
		count  uint64
	)
	iter = t.objs.Syscalls.Iterate()
	for iter.Next(&sysKey, &count) {
		snap.Syscalls = append(snap.Syscalls, Syscall{
			MntNS:    sysKey.Mntns,
			MntNSID:  sysKey.MntnsId,
			Nr:       int(sysKey.Nr),
			Workload: sysKey.Workload != 0,
			Count:    count,
		})
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("read syscalls map: %w", err)
	}

	var errKey capprofSyscallErrorKey
	iter = t.objs.SyscallErrors.Iterate()
	for iter.Next(&errKey, &count) {
		snap.SyscallErrors = append(snap.SyscallErrors, SyscallError{
			MntNS:   errKey.Mntns,
			MntNSID: errKey.MntnsId,
			Nr:      int(errKey.Nr),
			Errno:   int(errKey.Err),
			Count:   count,
		})
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("read syscall errors map: %w", err)
	}

	var devKey capprofDeviceKey
	iter = t.objs.Devices.Iterate()
	for iter.Next(&devKey, &count) {
		major, minor := decodeDev(devKey.Dev, devKey.Encoding)
		snap.Devices = append(snap.Devices, DeviceAccess{
			MntNS:    devKey.Mntns,
			MntNSID:  devKey.MntnsId,
			Block:    devKey.Block != 0,
			Major:    major,
			Minor:    minor,
			Access:   accessString(devKey.Access),
			Workload: devKey.Workload != 0,
			Comm:     commString(devKey.Comm[:]),
			Count:    count,
		})
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("read devices map: %w", err)
	}

	var (
		capsetKey  capprofCapsetKey
		capsetKeep capprofCapsetKeep
	)
	iter = t.objs.CapsetKeeps.Iterate()
	for iter.Next(&capsetKey, &capsetKeep) {
		snap.CapsetKeeps = append(snap.CapsetKeeps, CapsetKeep{
			MntNS:    capsetKey.Mntns,
			MntNSID:  capsetKey.MntnsId,
			Workload: capsetKey.Workload != 0,
			Comm:     commString(capsetKey.Comm[:]),
			Kept:     capsetKeep.Kept,
			Count:    capsetKeep.Calls,
		})
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("read capset keeps map: %w", err)
	}

	var (
		pathKey   capprofPathKey
		execValue capprofExecValue
	)
	iter = t.objs.Execs.Iterate()
	for iter.Next(&pathKey, &execValue) {
		snap.Execs = append(snap.Execs, Exec{
			MntNS:      pathKey.Mntns,
			MntNSID:    pathKey.MntnsId,
			Path:       commString(pathKey.Path[:]),
			Count:      execValue.Count,
			CapsGained: execValue.CapsGained,
			IDChanges:  uint64(execValue.IdChanges),
			UID:        execValue.Uid,
			EUIDBefore: execValue.EuidBefore,
			EUIDAfter:  execValue.EuidAfter,
			EGIDBefore: execValue.EgidBefore,
			EGIDAfter:  execValue.EgidAfter,
		})
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("read execs map: %w", err)
	}

	iter = t.objs.ReadonlyWrites.Iterate()
	for iter.Next(&pathKey, &count) {
		snap.ReadonlyWrites = append(snap.ReadonlyWrites, ReadonlyWrite{
			MntNS:   pathKey.Mntns,
			MntNSID: pathKey.MntnsId,
			Path:    commString(pathKey.Path[:]),
			Count:   count,
		})
	}
	if err := iter.Err(); err != nil {
		return nil, fmt.Errorf("read read-only writes map: %w", err)
	}

	snap.normalize()
	return snap, nil
}

// readCapChecks reads the capability checks and symbolizes their stacks,
// each distinct stack once.
func (t *Tracer) readCapChecks(snap *Snapshot) error {
	syms, err := LoadKernelSymbols()
	if err != nil {
		return err
	}
	stacks := map[int32][]string{}
	stackOf := func(id int32) ([]string, error) {
		if id < 0 {
			return nil, nil
		}
		if frames, ok := stacks[id]; ok {
			return frames, nil
		}
		addrs := make([]uint64, t.objs.Stacks.ValueSize()/8)
		if err := t.objs.Stacks.Lookup(uint32(id), &addrs); err != nil {
			if errors.Is(err, ebpf.ErrKeyNotExist) {
				stacks[id] = nil
				return nil, nil
			}
			return nil, fmt.Errorf("read stack %d: %w", id, err)
		}
		n := 0
		for n < len(addrs) && addrs[n] != 0 {
			n++
		}
		var frames []string
		if n > 0 {
			frames = syms.Symbolize(addrs[:n])
		}
		stacks[id] = frames
		return frames, nil
	}

	var (
		key   capprofCapKey
		count uint64
	)
	iter := t.objs.CapChecks.Iterate()
	for iter.Next(&key, &count) {
		stack, err := stackOf(key.Stackid)
		if err != nil {
			return err
		}
		snap.CapChecks = append(snap.CapChecks, CapCheck{
			MntNS:       key.Mntns,
			MntNSID:     key.MntnsId,
			Cap:         int(key.Cap),
			Denied:      key.Denied != 0,
			Workload:    key.Workload != 0,
			ForeignCred: key.ForeignCred != 0,
			ExecSetup:   key.ExecSetup != 0,
			Comm:        commString(key.Comm[:]),
			Stack:       stack,
			Count:       count,
		})
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("read capability checks map: %w", err)
	}
	return nil
}
