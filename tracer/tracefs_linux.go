package tracer

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// tracefsPath is where the tracer finds (or mounts) tracefs; cilium/ebpf
// reads tracepoint ids there when it attaches a tracepoint program.
const tracefsPath = "/sys/kernel/tracing"

// ensureTracefs mounts tracefs at tracefsPath unless it is mounted there
// already, and says whether it did. The mount is left in place on Close:
// another tool may have started using it meanwhile, and an idle tracefs
// mount costs nothing.
func ensureTracefs() (mounted bool, err error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(tracefsPath, &fs); err == nil && fs.Type == unix.TRACEFS_MAGIC {
		return false, nil
	}
	if err := unix.Mount("nodev", tracefsPath, "tracefs", 0, ""); err != nil {
		return false, fmt.Errorf("mount tracefs at %s: %w", tracefsPath, err)
	}
	return true, nil
}

// tracepointHasField says whether the format of tracepoint group/name in
// tracefs declares a field called field.
func tracepointHasField(group, name, field string) (bool, error) {
	format, err := os.ReadFile(tracefsPath + "/events/" + group + "/" + name + "/format")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("tracepoint %s:%s does not exist: %w", group, name, err)
		}
		return false, fmt.Errorf("read format of tracepoint %s:%s: %w", group, name, err)
	}
	return formatHasField(string(format), field), nil
}
