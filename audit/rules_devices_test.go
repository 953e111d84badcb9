package audit

import "testing"

func TestDeviceRules(t *testing.T) {
	runHostRulesCases(t, []hostRulesCase{
		{
			name: "gpus: all, by count and by id, and a deploy reservation with the gpu capability",
			files: map[string]string{"compose.yml": `
services:
  train:
    image: busybox
    gpus: all
  infer:
    image: busybox
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: 1
              capabilities: [gpu]
  pick:
    image: busybox
    gpus:
      - driver: nvidia
        device_ids: ["0", "1"]
`},
			want: []string{
				"gpu:low@compose.yml:4",
				"gpu:low@compose.yml:10",
				"gpu:low@compose.yml:16",
			},
			message: "gpus: all GPUs",
		},
		{
			name: "a device reservation without the gpu capability, and no gpus",
			files: map[string]string{"compose.yml": `
services:
  tpu:
    image: busybox
    deploy:
      resources:
        reservations:
          devices:
            - driver: tpu
              capabilities: [tpu]
`},
		},
		{
			name: "devices: a disk and memory high, a serial port and KVM medium, short and long syntax",
			files: map[string]string{"compose.yml": `
services:
  hw:
    image: busybox
    devices:
      - /dev/ttyUSB0:/dev/ttyUSB0:rw
      - /dev/sda:/dev/xvda:r
      - source: /dev/kvm
        target: /dev/kvm
      - /dev/mem
`},
			want: []string{
				"device:high@compose.yml:6",
				"device:high@compose.yml:9",
				"device:medium@compose.yml:5",
				"device:medium@compose.yml:7",
			},
			message: "devices: /dev/sda → /dev/xvda (r): the host's disks",
		},
		{
			name: "two devices at one target: compose keeps the last, located there",
			files: map[string]string{"compose.yml": `
services:
  hw:
    image: busybox
    devices:
      - /dev/ttyUSB0:/dev/port0
      - /dev/sda:/dev/port0
`},
			want:    []string{"device:high@compose.yml:6"},
			message: "devices: /dev/sda → /dev/port0",
		},
		{
			name: "two devices at one target, the last harmless: located at the last",
			files: map[string]string{"compose.yml": `
services:
  hw:
    image: busybox
    devices:
      - /dev/sda:/dev/port0
      - /dev/ttyUSB0:/dev/port0
`},
			want:    []string{"device:medium@compose.yml:6"},
			message: "devices: /dev/ttyUSB0 → /dev/port0",
		},
		{
			name: "a CDI device is named as one, not as a path mapped to itself",
			files: map[string]string{"compose.yml": `
services:
  gpu:
    image: busybox
    devices:
      - nvidia.com/gpu=all
`},
			want:    []string{"device:medium@compose.yml:5"},
			message: "devices: nvidia.com/gpu=all: a CDI device",
		},
		{
			name: "no devices",
			files: map[string]string{"compose.yml": `
services:
  hw:
    image: busybox
    volumes:
      - ./data:/dev/data
`},
			want: nil,
		},
		{
			name: "device cgroup rules: wildcards, block and memory high, others medium, mknod only not reported",
			files: map[string]string{"compose.yml": `
services:
  hw:
    image: busybox
    device_cgroup_rules:
      - "c 188:* rmw"
      - "a *:* rwm"
      - "b 8:* rw"
      - "c 1:1 r"
      - "c *:* m"
`},
			want: []string{
				"device-cgroup-rule:high@compose.yml:6",
				"device-cgroup-rule:high@compose.yml:7",
				"device-cgroup-rule:high@compose.yml:8",
				"device-cgroup-rule:medium@compose.yml:5",
			},
			message: "device_cgroup_rules: a *:* rwm: every host device",
		},
		{
			name: "no device cgroup rules",
			files: map[string]string{"compose.yml": `
services:
  hw:
    image: busybox
    device_cgroup_rules: ["b *:* m"]
`},
			want: nil,
		},
		{
			name: "sysctls, mapping form",
			files: map[string]string{"compose.yml": `
services:
  router:
    image: busybox
    sysctls:
      net.core.somaxconn: 1024
      kernel.core_pattern: "|/tmp/x"
      net.ipv4.conf.all.route_localnet: 1
      vm.overcommit_memory: 1
      net.ipv4.ip_forward: 1
`},
			want: []string{
				"sysctl-risky:high@compose.yml:6",
				"sysctl-risky:medium@compose.yml:7",
				"sysctl-risky:medium@compose.yml:8",
				"sysctl-risky:low@compose.yml:9",
			},
			message: "sysctls: kernel.core_pattern=|/tmp/x",
		},
		{
			name: "sysctls, list form",
			files: map[string]string{"compose.yml": `
services:
  router:
    image: busybox
    sysctls:
      - net.ipv4.ip_unprivileged_port_start=0
      - net.ipv4.conf.eth0.rp_filter=0
`},
			want: []string{"sysctl-risky:low@compose.yml:6"},
		},
		{
			name: "forwarding per interface",
			files: map[string]string{"compose.yml": `
services:
  router:
    image: busybox
    sysctls: {net.ipv4.conf.all.forwarding: 1}
`},
			want: []string{"sysctl-risky:low@compose.yml:4"},
		},
		{
			name: "sysctl name from an unset variable is indeterminate, not a host-wide setting",
			files: map[string]string{"compose.yml": `
services:
  router:
    image: busybox
    sysctls: ["${SC}=1"]
`},
			want: []string{"sysctl-risky?SC@compose.yml:4"},
		},
		{
			name: "no risky sysctl: namespaced and at their safe values",
			files: map[string]string{"compose.yml": `
services:
  db:
    image: postgres
    sysctls:
      kernel.shmmax: 68719476736
      net.ipv4.ip_forward: 0
      net.ipv4.conf.all.rp_filter: 1
      fs.mqueue.msg_max: 100
`},
			want: nil,
		},
		{
			name: "a disk added in compose.override.yml, found by discovery",
			files: map[string]string{
				"compose.yml": `
services:
  hw:
    image: busybox
    devices: [/dev/ttyUSB0]
`,
				"compose.override.yml": `
services:
  hw:
    devices:
      - /dev/nvme0n1:/dev/disk0
    sysctls:
      - kernel.modprobe=/tmp/x
`},
			want: []string{
				"device:high@compose.override.yml:4",
				"sysctl-risky:high@compose.override.yml:6",
				"device:medium@compose.yml:4",
			},
		},
		{
			name: "!override in compose.override.yml removes the disk and the sysctl",
			files: map[string]string{
				"compose.yml": `
services:
  hw:
    image: busybox
    devices: [/dev/sda]
    device_cgroup_rules: ["a *:* rwm"]
    sysctls: {kernel.core_pattern: "|/x"}
`,
				"compose.override.yml": `
services:
  hw:
    devices: !override []
    device_cgroup_rules: !reset []
    sysctls: !override
      net.core.somaxconn: 1024
`},
			want: nil,
		},
		{
			name: "set through extends of another file, located in the base file",
			files: map[string]string{
				"compose.yml": `
services:
  hw:
    extends:
      file: base/hw.yml
      service: hw-base
`,
				"base/hw.yml": `
services:
  hw-base:
    image: busybox
    devices:
      - /dev/mapper/vg0-root
    device_cgroup_rules:
      - "b 253:* rwm"
`},
			want: []string{
				"device:high@base/hw.yml:5",
				"device-cgroup-rule:high@base/hw.yml:7",
			},
		},
		{
			name: "anchored list and merge key",
			files: map[string]string{"compose.yml": `
x-devs: &devs
  - /dev/sdb
x-net: &net
  sysctls:
    net.ipv4.conf.default.route_localnet: 1
services:
  a:
    image: busybox
    devices: *devs
  b:
    <<: *net
    image: busybox
`},
			want: []string{
				"device:high@compose.yml:2",
				"sysctl-risky:medium@compose.yml:5",
			},
		},
		{
			name: "interpolated device and sysctl, variables set",
			env:  []string{"DISK=/dev/sdc", "LOCALNET=1"},
			files: map[string]string{"compose.yml": `
services:
  hw:
    image: busybox
    devices:
      - ${DISK}:/dev/xvdc
    sysctls:
      - net.ipv4.conf.all.route_localnet=${LOCALNET}
`},
			want: []string{
				"device:high@compose.yml:5",
				"sysctl-risky:medium@compose.yml:7",
			},
		},
		{
			name: "interpolated device and sysctl, variables unset: indeterminate",
			files: map[string]string{"compose.yml": `
services:
  hw:
    image: busybox
    devices:
      - ${DISK}:/dev/xvdc
    sysctls:
      - net.ipv4.conf.all.route_localnet=${LOCALNET}
`},
			want: []string{
				"device?DISK@compose.yml:5",
				"sysctl-risky?LOCALNET@compose.yml:7",
			},
		},
	})
}

func TestDeviceSeverity(t *testing.T) {
	tests := []struct {
		source string
		want   Severity
	}{
		{"/dev/sda", High},
		{"/dev/sda1", High},
		{"/dev/nvme0n1p2", High},
		{"/dev/mmcblk0", High},
		{"/dev/loop0", High},
		{"/dev/dm-0", High},
		{"/dev/mapper/vg0-root", High},
		{"/dev/disk/by-uuid/1234", High},
		{"/dev/md0", High},
		{"/dev/mem", High},
		{"/dev/kmem", High},
		{"/dev/port", High},
		{"/dev", High},
		{"/dev/disk", High},
		{"/dev/kvm", Medium},
		{"/dev/ttyUSB0", Medium},
		{"/dev/net/tun", Medium},
		{"/dev/fuse", Medium},
		{"/dev/dri/renderD128", Medium},
	}
	for _, tt := range tests {
		t.Run(tt.source, func(t *testing.T) {
			if got, _ := deviceSeverity(tt.source); got != tt.want {
				t.Errorf("deviceSeverity(%q) = %v, want %v", tt.source, got, tt.want)
			}
		})
	}
}

func TestCgroupRuleSeverity(t *testing.T) {
	tests := []struct {
		rule   string
		want   Severity
		report bool
	}{
		{"a *:* rwm", High, true},
		{"c *:* rw", High, true},
		{"b *:* r", High, true},
		{"b 8:0 rw", High, true},
		{"c 1:1 rwm", High, true},
		{"c 1:2 r", High, true},
		{"c 1:4 w", High, true},
		{"c 1:* rw", High, true},
		{"c 21:0 rw", High, true},
		{"c 1:3 rwm", Medium, true},
		{"c 189:* rwm", Medium, true},
		{"c 10:232 rw", Medium, true},
		{"c 188", Medium, true},
		{"b *:* m", None, false},
		{"c 1:1 m", None, false},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			got, _, report := cgroupRuleSeverity(tt.rule)
			if got != tt.want || report != tt.report {
				t.Errorf("cgroupRuleSeverity(%q) = %v, %v; want %v, %v", tt.rule, got, report, tt.want, tt.report)
			}
		})
	}
}

func TestSysctlSeverity(t *testing.T) {
	tests := []struct {
		name, value string
		want        Severity
		report      bool
	}{
		{"kernel.core_pattern", "core", High, true},
		{"kernel.modprobe", "/sbin/modprobe", High, true},
		{"kernel.randomize_va_space", "0", Medium, true},
		{"vm.swappiness", "10", Medium, true},
		{"fs.suid_dumpable", "2", Medium, true},
		{"net.ipv4.conf.eth0.route_localnet", "1", Medium, true},
		{"net.ipv4.conf.all.route_localnet", "0", None, false},
		{"net.ipv4.ip_forward", "1", Low, true},
		{"net.ipv6.conf.all.forwarding", "1", Low, true},
		{"net.ipv4.conf.all.accept_redirects", "1", Low, true},
		{"net.ipv4.conf.all.accept_source_route", "1", Low, true},
		{"net.ipv4.conf.all.rp_filter", "0", Low, true},
		{"net.ipv4.conf.all.rp_filter", "2", None, false},
		{"net.ipv4.ip_unprivileged_port_start", "0", None, false},
		{"net.core.somaxconn", "4096", None, false},
		{"kernel.shmmax", "1", None, false},
		{"kernel.msgmnb", "1", None, false},
		{"fs.mqueue.queues_max", "1", None, false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			got, _, report := sysctlSeverity(tt.name, tt.value)
			if got != tt.want || report != tt.report {
				t.Errorf("sysctlSeverity(%q, %q) = %v, %v; want %v, %v", tt.name, tt.value, got, report, tt.want, tt.report)
			}
		})
	}
}
