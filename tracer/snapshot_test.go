package tracer

import (
	"reflect"
	"testing"
)

func TestDecodeKernelDev(t *testing.T) {
	tests := []struct {
		name         string
		dev          uint32
		major, minor uint32
	}{
		{"/dev/null", 1<<20 | 3, 1, 3},
		{"/dev/net/tun", 10<<20 | 200, 10, 200},
		{"/dev/fuse", 10<<20 | 229, 10, 229},
		{"large minor", 259<<20 | 0xfffff, 259, 0xfffff},
		{"zero", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			major, minor := decodeKernelDev(tt.dev)
			if major != tt.major || minor != tt.minor {
				t.Errorf("decodeKernelDev(%#x) = %d:%d, want %d:%d", tt.dev, major, minor, tt.major, tt.minor)
			}
		})
	}
}

func TestDecodeUserDev(t *testing.T) {
	// makedev as glibc computes it, truncated to the 32 bits mknod(2) takes.
	makedev := func(major, minor uint32) uint32 {
		return (major&0xfff)<<8 | minor&0xff | (minor&^0xff)<<12
	}
	tests := []struct {
		name         string
		major, minor uint32
	}{
		{"/dev/null", 1, 3},
		{"/dev/kmsg", 1, 11},
		{"/dev/net/tun", 10, 200},
		{"minor above 255", 4, 300},
		{"largest", 0xfff, 0xfffff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dev := makedev(tt.major, tt.minor)
			major, minor := decodeUserDev(dev)
			if major != tt.major || minor != tt.minor {
				t.Errorf("decodeUserDev(%#x) = %d:%d, want %d:%d", dev, major, minor, tt.major, tt.minor)
			}
		})
	}
	// The literal encodings: 1:3 is 0x103 for mknod, 0x100003 in an inode.
	if major, minor := decodeDev(0x103, devEncodingUser); major != 1 || minor != 3 {
		t.Errorf("decodeDev(0x103, user) = %d:%d, want 1:3", major, minor)
	}
	if major, minor := decodeDev(0x100003, devEncodingKernel); major != 1 || minor != 3 {
		t.Errorf("decodeDev(0x100003, kernel) = %d:%d, want 1:3", major, minor)
	}
}

func TestAccessString(t *testing.T) {
	tests := []struct {
		bits uint8
		want string
	}{
		{0, ""},
		{accessRead, "r"},
		{accessWrite, "w"},
		{accessMknod, "m"},
		{accessRead | accessWrite, "rw"},
		{accessMknod | accessWrite | accessRead, "rwm"},
	}
	for _, tt := range tests {
		if got := accessString(tt.bits); got != tt.want {
			t.Errorf("accessString(%d) = %q, want %q", tt.bits, got, tt.want)
		}
	}
}

func TestCommString(t *testing.T) {
	comm := [16]int8{'r', 'u', 'n', 'c', ':', '[', '2', ':', 'I', 'N', 'I', 'T', ']'}
	if got := commString(comm[:]); got != "runc:[2:INIT]" {
		t.Errorf("commString() = %q", got)
	}
	full := [16]int8{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p'}
	if got := commString(full[:]); got != "abcdefghijklmnop" {
		t.Errorf("commString() without NUL = %q", got)
	}
}

func TestSnapshotNormalize(t *testing.T) {
	stack := []string{"cap_capable", "security_capable", "ns_capable"}
	s := Snapshot{
		Namespaces: []Namespace{{MntNS: 9, Nodename: "b"}, {MntNS: 3, MntNSID: 2, Nodename: "c"}, {MntNS: 3, MntNSID: 1, Nodename: "a"}},
		CapChecks: []CapCheck{
			{MntNS: 5, Cap: 21, Workload: true, Comm: "app", Stack: stack, Count: 2},
			{MntNS: 5, Cap: 0, Comm: "app", Count: 1},
			// Two kernel stacks that symbolize alike fold into one entry.
			{MntNS: 5, Cap: 21, Workload: true, Comm: "app", Stack: append([]string(nil), stack...), Count: 3},
			{MntNS: 5, Cap: 21, Workload: true, Comm: "app", Count: 7},
			{MntNS: 4, Cap: 21, Comm: "runc:[2:INIT]", Count: 1},
		},
		Syscalls:      []Syscall{{MntNS: 5, Nr: 3, Workload: true, Count: 1}, {MntNS: 5, Nr: 3, Count: 1}, {MntNS: 5, Nr: 3, Workload: true, Count: 4}},
		SyscallErrors: []SyscallError{{MntNS: 5, MntNSID: 2, Nr: 260, Errno: 1, Count: 1}, {MntNS: 5, Nr: 260, Errno: 1, Count: 1}, {MntNS: 5, Nr: 260, Errno: 1, Count: 1}},
		Devices: []DeviceAccess{
			{MntNS: 5, Major: 1, Minor: 3, Access: "rw", Comm: "app", Count: 1},
			{MntNS: 5, Major: 1, Minor: 3, Access: "m", Comm: "app", Count: 1},
		},
		CapsetKeeps: []CapsetKeep{
			{MntNS: 5, Workload: true, Comm: "dnsmasq", Kept: 0x3000, Count: 1},
			{MntNS: 5, Comm: "runc:[2:INIT]", Kept: 0x1, Count: 1},
			{MntNS: 5, Workload: true, Comm: "dnsmasq", Kept: 0x3000, Count: 2},
		},
	}
	s.normalize()
	want := Snapshot{
		Namespaces: []Namespace{{MntNS: 3, MntNSID: 1, Nodename: "a"}, {MntNS: 3, MntNSID: 2, Nodename: "c"}, {MntNS: 9, Nodename: "b"}},
		CapChecks: []CapCheck{
			{MntNS: 4, Cap: 21, Comm: "runc:[2:INIT]", Count: 1},
			{MntNS: 5, Cap: 0, Comm: "app", Count: 1},
			{MntNS: 5, Cap: 21, Workload: true, Comm: "app", Count: 7},
			{MntNS: 5, Cap: 21, Workload: true, Comm: "app", Stack: stack, Count: 5},
		},
		Syscalls:      []Syscall{{MntNS: 5, Nr: 3, Count: 1}, {MntNS: 5, Nr: 3, Workload: true, Count: 5}},
		SyscallErrors: []SyscallError{{MntNS: 5, Nr: 260, Errno: 1, Count: 2}, {MntNS: 5, MntNSID: 2, Nr: 260, Errno: 1, Count: 1}},
		Devices: []DeviceAccess{
			{MntNS: 5, Major: 1, Minor: 3, Access: "m", Comm: "app", Count: 1},
			{MntNS: 5, Major: 1, Minor: 3, Access: "rw", Comm: "app", Count: 1},
		},
		CapsetKeeps: []CapsetKeep{
			{MntNS: 5, Comm: "runc:[2:INIT]", Kept: 0x1, Count: 1},
			{MntNS: 5, Workload: true, Comm: "dnsmasq", Kept: 0x3000, Count: 3},
		},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("normalize() =\n%+v\nwant\n%+v", s, want)
	}
}

func TestFormatHasField(t *testing.T) {
	const format = `name: sched_process_exit
ID: 369
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:char comm[16];	offset:8;	size:16;	signed:0;
	field:pid_t pid;	offset:24;	size:4;	signed:1;
	field:bool group_dead;	offset:32;	size:1;	signed:0;

print fmt: "comm=%s pid=%d group_dead=%s", REC->comm, REC->pid, REC->group_dead ? "true" : "false"
`
	tests := []struct {
		field string
		want  bool
	}{
		{"group_dead", true},
		{"comm", true},
		{"pid", true},
		{"prio", false},
		{"dead", false},
		{"fmt", false},
	}
	for _, tt := range tests {
		if got := formatHasField(format, tt.field); got != tt.want {
			t.Errorf("formatHasField(%q) = %v, want %v", tt.field, got, tt.want)
		}
	}
}

func TestSnapshotForNodename(t *testing.T) {
	// Inode 7 served two containers one after the other (ids 100 and 101).
	s := &Snapshot{
		HostMntNS: 1,
		Namespaces: []Namespace{
			{MntNS: 7, MntNSID: 100, Nodename: "old", FirstPID: 10},
			{MntNS: 7, MntNSID: 101, Nodename: "web", FirstPID: 20},
			{MntNS: 8, MntNSID: 102, Nodename: "web", FirstPID: 30},
		},
		CapChecks: []CapCheck{
			{MntNS: 7, MntNSID: 100, Cap: 12, Comm: "old", Stack: []string{"cap_capable"}, Count: 1},
			{MntNS: 7, MntNSID: 101, Cap: 10, Comm: "web", Stack: []string{"cap_capable"}, Count: 2},
			// Runtime setup in a namespace whose workload never started.
			{MntNS: 9, MntNSID: 103, Cap: 21, Comm: "runc:[2:INIT]", Count: 3},
		},
		Syscalls:      []Syscall{{MntNS: 7, MntNSID: 100, Nr: 1, Count: 1}, {MntNS: 8, MntNSID: 102, Nr: 2, Count: 1}},
		SyscallErrors: []SyscallError{{MntNS: 7, MntNSID: 100, Nr: 3, Errno: 1, Count: 1}, {MntNS: 7, MntNSID: 101, Nr: 4, Errno: 1, Count: 1}},
		Devices:       []DeviceAccess{{MntNS: 7, MntNSID: 100, Major: 10, Minor: 200, Access: "rw", Count: 1}},
		CapsetKeeps:   []CapsetKeep{{MntNS: 7, MntNSID: 100, Workload: true, Comm: "old", Kept: 1, Count: 1}, {MntNS: 8, MntNSID: 102, Workload: true, Comm: "web", Kept: 0x400, Count: 1}},
	}
	got := s.ForNodename("web")
	want := &Snapshot{
		HostMntNS: 1,
		Namespaces: []Namespace{
			{MntNS: 7, MntNSID: 101, Nodename: "web", FirstPID: 20},
			{MntNS: 8, MntNSID: 102, Nodename: "web", FirstPID: 30},
		},
		CapChecks:     []CapCheck{{MntNS: 7, MntNSID: 101, Cap: 10, Comm: "web", Stack: []string{"cap_capable"}, Count: 2}},
		Syscalls:      []Syscall{{MntNS: 8, MntNSID: 102, Nr: 2, Count: 1}},
		SyscallErrors: []SyscallError{{MntNS: 7, MntNSID: 101, Nr: 4, Errno: 1, Count: 1}},
		CapsetKeeps:   []CapsetKeep{{MntNS: 8, MntNSID: 102, Workload: true, Comm: "web", Kept: 0x400, Count: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ForNodename(web) =\n%+v\nwant\n%+v", got, want)
	}
	got.CapChecks[0].Stack[0] = "changed"
	if s.CapChecks[1].Stack[0] != "cap_capable" {
		t.Error("ForNodename shares stacks with the snapshot")
	}
	if none := s.ForNodename("absent"); len(none.Namespaces)+len(none.CapChecks)+len(none.Syscalls)+len(none.SyscallErrors)+len(none.Devices)+len(none.CapsetKeeps) != 0 {
		t.Errorf("ForNodename(absent) = %+v, want nothing", none)
	}
}
