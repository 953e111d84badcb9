/*
 * The few kernel definitions capprof's BPF program needs, written by hand
 * instead of a multi-megabyte generated vmlinux.h.
 *
 * The structs below are partial: they name only the members the program
 * reads. preserve_access_index makes clang emit CO-RE relocations, so the
 * loader moves every field access to the offset the running kernel's BTF
 * gives; the member order and padding here do not have to match the kernel.
 */
#ifndef CAPPROF_KERNEL_H
#define CAPPROF_KERNEL_H

/* Fixed-size integer types the libbpf headers use. */
typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

/* From include/uapi/linux/bpf.h: the map types and update flags used. */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_STACK_TRACE = 7,
	BPF_MAP_TYPE_LRU_HASH = 9,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
};

/* From include/uapi/linux/stat.h. */
#define S_IFMT 00170000
#define S_IFBLK 0060000
#define S_IFCHR 0020000

/* From include/linux/fs.h. */
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2

/* From include/uapi/asm-generic/errno-base.h and errno.h. */
#define EPERM 1
#define EACCES 13
#define ENOSYS 38
#define EROFS 30

/* From include/uapi/linux/utsname.h. */
#define NEW_UTS_LEN 64

/* CO-RE views of kernel structs (include/linux/sched.h, nsproxy.h, ...). */

struct ns_common {
	unsigned int inum;
	__u64 ns_id; /* since 6.18: unique, never reused */
} __attribute__((preserve_access_index));

struct mnt_namespace {
	struct ns_common ns;
	__u64 seq; /* before 6.18: unique, never reused */
} __attribute__((preserve_access_index));

struct new_utsname {
	char nodename[NEW_UTS_LEN + 1];
} __attribute__((preserve_access_index));

struct uts_namespace {
	struct new_utsname name;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct uts_namespace *uts_ns;
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

struct inode {
	unsigned short i_mode;
	unsigned int i_rdev;
} __attribute__((preserve_access_index));

struct file {
	unsigned int f_mode;
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

/*
 * include/linux/capability.h, cred.h: a 64-bit set since 6.3, two u32
 * words before (the same 8 bytes on a little-endian machine). Read whole,
 * never through a member, so that either layout relocates.
 */
typedef struct {
	__u64 val;
} kernel_cap_t;

/* include/linux/uidgid_types.h */
typedef struct {
	__u32 val;
} kuid_t;

typedef struct {
	__u32 val;
} kgid_t;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t euid;
	kgid_t egid;
	kernel_cap_t cap_inheritable;
	kernel_cap_t cap_permitted;
} __attribute__((preserve_access_index));

/* include/uapi/linux/capability.h: capset(2)'s data, one per 32 bits. */
struct __user_cap_data_struct {
	__u32 effective;
	__u32 permitted;
	__u32 inheritable;
};

#define CAP_SETPCAP 8

/* include/linux/kernfs.h, cgroup-defs.h: a task's cgroup on the default
 * (unified) hierarchy and that cgroup's directory name. */
struct kernfs_node {
	const char *name;
} __attribute__((preserve_access_index));

struct cgroup {
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	const struct cred *real_cred;
	const struct cred *cred;
	struct files_struct *files;
	struct nsproxy *nsproxy;
	struct css_set *cgroups;
} __attribute__((preserve_access_index));

/*
 * Tracepoint records, laid out as /sys/kernel/tracing/events/<group>/<name>/format
 * says. The first 8 bytes are the common header (type, flags, preempt count,
 * pid). These are a stable ABI of each tracepoint, not CO-RE relocated.
 */

struct trace_entry {
	unsigned short common_type;
	unsigned char common_flags;
	unsigned char common_preempt_count;
	int common_pid;
};

/* raw_syscalls:sys_enter */
struct sys_enter_args {
	struct trace_entry ent;
	long id;
	unsigned long args[6];
};

/* raw_syscalls:sys_exit */
struct sys_exit_args {
	struct trace_entry ent;
	long id;
	long ret;
};

/* capability:cap_capable */
struct cap_capable_args {
	struct trace_entry ent;
	const struct cred *cred;
	void *target_ns;
	const void *capable_ns;
	int cap;
	int ret;
};

/* sched:sched_process_exec */
struct sched_process_exec_args {
	struct trace_entry ent;
	unsigned int filename_loc; /* __data_loc char[] */
	int pid;
	int old_pid;
};

/* sched:sched_process_fork */
struct sched_process_fork_args {
	struct trace_entry ent;
	unsigned int parent_comm_loc; /* __data_loc char[] */
	int parent_pid;
	unsigned int child_comm_loc; /* __data_loc char[] */
	int child_pid;
};

/* sched:sched_process_exit */
struct sched_process_exit_args {
	struct trace_entry ent;
	char comm[16];
	int pid;
	int prio;
	_Bool group_dead;
};

#endif /* CAPPROF_KERNEL_H */
