package tracer

import (
	"fmt"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MntNSOf returns the mount namespace inode of a running process (stat /proc/PID/ns/mnt).
func MntNSOf(pid int) (uint32, error) {
	var st unix.Stat_t
	path := "/proc/" + strconv.Itoa(pid) + "/ns/mnt"
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("mount namespace of pid %d: %w", pid, err)
	}
	return uint32(st.Ino), nil
}

// nsGetMntNSID is NS_GET_MNTNS_ID from include/uapi/linux/nsfs.h:
// _IOR(0xb7, 0x5, __u64), the same number on amd64 and arm64.
const nsGetMntNSID = 2<<30 | 8<<16 | 0xb7<<8 | 0x5

// MntNSIDOf returns the never-reused id of a running process's mount
// namespace (the NS_GET_MNTNS_ID ioctl, Linux 6.8 and later), the MntNSID
// its records carry.
func MntNSIDOf(pid int) (uint64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/ns/mnt"
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("mount namespace id of pid %d: %w", pid, err)
	}
	defer unix.Close(fd)
	var id uint64
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), nsGetMntNSID, uintptr(unsafe.Pointer(&id))); errno != 0 {
		return 0, fmt.Errorf("mount namespace id of pid %d: NS_GET_MNTNS_ID: %w", pid, errno)
	}
	return id, nil
}
