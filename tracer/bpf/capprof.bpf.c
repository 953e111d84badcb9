//go:build ignore

/*
 * capprof's kernel side: counts, per mount namespace, the capability checks,
 * system calls, refused system calls and device nodes that tasks outside the
 * host's mount namespace use. Everything is aggregated in maps here; user
 * space reads the maps when it wants a snapshot, so no event is streamed.
 */

#include "kernel.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Set by the loader before the program is loaded (volatile so clang keeps
 * the loads instead of folding the defaults in).
 */

/* Inode number of the host's mount namespace (stat /proc/1/ns/mnt). */
volatile const __u32 host_mntns = 0;

/*
 * System call numbers of the running architecture; -1 where the
 * architecture has no such call (arm64 has no open, creat or mknod).
 */
volatile const __s32 nr_open = -1;
volatile const __s32 nr_creat = -1;
volatile const __s32 nr_openat = -1;
volatile const __s32 nr_openat2 = -1;
volatile const __s32 nr_mknod = -1;
volatile const __s32 nr_mknodat = -1;
volatile const __s32 nr_capset = -1;
volatile const __s32 nr_execve = -1;
volatile const __s32 nr_execveat = -1;

/*
 * Whether sched:sched_process_exit has the group_dead field on this kernel.
 * Without it a group's mark is dropped when its leader exits.
 */
volatile const __u8 exit_has_group_dead = 0;

/* Access bits of a device key. */
#define ACCESS_READ 1
#define ACCESS_WRITE 2
#define ACCESS_MKNOD 4

/* How a device key's dev is encoded. */
#define DEV_KERNEL 0 /* kernel dev_t: major = dev >> 20, minor = dev & 0xfffff */
#define DEV_USER 1   /* mknod(2) argument, new_encode_dev() */

/* Open flags (include/uapi/asm-generic/fcntl.h) that ask to write. */
#define O_ACCMODE 00000003
#define O_WRONLY 00000001
#define O_RDWR 00000002
#define O_CREAT 00000100
#define O_TRUNC 00001000

/* Length of the paths kept, with the NUL; longer ones are cut. */
#define PATH_LEN 256

/* Depth of the kernel stacks kept; capability checks sit 10 to 30 frames deep. */
#define STACK_DEPTH 64

/*
 * A mount namespace: its inode number, which the kernel hands to the next
 * namespace as soon as this one is freed, and its id, which is never reused.
 * Every key carries both, so that two containers started one after the other
 * with the same inode number are never counted together.
 */
struct mntns_key {
	__u64 id;
	__u32 inum;
	__u32 _pad;
};

/* Value of the namespaces map: how user space finds a container's namespaces. */
struct namespace_info {
	__u32 first_pid;
	char nodename[65];
	__u8 _pad[3];
	/*
	 * Name of the task's cgroup on the unified hierarchy at that exec:
	 * Docker's is the container id ("<id>" with cgroupfs, "docker-<id>.scope"
	 * with systemd), which unlike the hostname names one container only.
	 * Empty where the unified hierarchy is not mounted (the root's name).
	 */
	char cgroup[128];
};

/* Key of the cap_checks map. */
struct cap_key {
	__u64 mntns_id;
	__u32 mntns;
	__s32 cap;
	__s32 stackid; /* negative when no stack was stored */
	__u8 denied;
	__u8 workload;
	__u8 foreign_cred;
	/*
	 * A runtime check (not workload) in a namespace whose workload had
	 * already started: docker exec's or a healthcheck's runtime init
	 * joining the container, not the container's own start.
	 */
	__u8 exec_setup;
	char comm[16];
};

/* Key of the syscalls map. */
struct syscall_key {
	__u64 mntns_id;
	__u32 mntns;
	__s32 nr;
	__u8 workload;
	__u8 _pad[7];
};

/* Key of the syscall_errors map. */
struct syscall_error_key {
	__u64 mntns_id;
	__u32 mntns;
	__s32 nr;
	__s32 err;
	__u32 _pad;
};

/* Key of the capset_keeps map. */
struct capset_key {
	__u64 mntns_id;
	__u32 mntns;
	__u8 workload;
	__u8 _pad[3];
	char comm[16];
};

/* Value of the capset_keeps map. */
struct capset_keep {
	/* Capabilities the calls asked to keep, ORed together. */
	__u64 kept;
	/* How many calls asked to keep some of them. */
	__u64 calls;
};

/* Key of the devices map. */
struct device_key {
	__u64 mntns_id;
	__u32 mntns;
	__u32 dev;
	__u8 block;
	__u8 access;
	__u8 workload;
	__u8 encoding; /* DEV_KERNEL or DEV_USER */
	char comm[16];
	__u8 _pad[4];
};

/* A task's credentials when it entered execve, until the exec completes. */
struct exec_creds {
	__u64 permitted;
	__u32 uid;
	__u32 euid;
	__u32 gid;
	__u32 egid;
};


/* Value of the execs map. */
struct exec_value {
	/* How often the path was executed. */
	__u64 count;
	/* Capabilities the execs added to the permitted set (file capabilities). */
	__u64 caps_gained;
	/* How many execs changed the effective user or group (setuid, setgid). */
	__u32 id_changes;
	/* Credentials around the last exec that changed them. */
	__u32 uid;
	__u32 euid_before;
	__u32 euid_after;
	__u32 egid_before;
	__u32 egid_after;
};

/*
 * Key of the execs map (a program's path as execve(2) was given it) and of
 * the readonly_writes map (a path whose write open failed with EROFS).
 */
struct path_key {
	__u64 mntns_id;
	__u32 mntns;
	__u32 _pad;
	char path[PATH_LEN];
};

/*
 * Map sizes: a trace run profiles one compose project, a handful of
 * containers. 65536 entries of each counting map leave room for every
 * (namespace, syscall) pair of dozens of containers and for thousands of
 * distinct (cap, comm, stack) combinations; preallocated, each map costs a
 * few megabytes. An update into a full map fails and that count is lost.
 */

/* mount namespace -> namespace_info, set at its first workload exec. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct mntns_key);
	__type(value, struct namespace_info);
} namespaces SEC(".maps");

/*
 * Thread group ids (and forked child pids) of workload processes: those that
 * exec'd inside a non-host mount namespace, and their descendants. LRU so a
 * missed exit can never fill it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} workload_pids SEC(".maps");

/* Kernel stacks of capability checks, 16384 distinct stacks of STACK_DEPTH frames (8 MiB). */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct cap_key);
	__type(value, __u64);
} cap_checks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct syscall_key);
	__type(value, __u64);
} syscalls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct syscall_error_key);
	__type(value, __u64);
} syscall_errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct device_key);
	__type(value, __u64);
} devices SEC(".maps");

/*
 * Capabilities tasks asked capset(2) to keep, per mount namespace and comm:
 * the kernel compares the requested sets with the permitted set itself and
 * makes no capability check for them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct capset_key);
	__type(value, struct capset_keep);
} capset_keeps SEC(".maps");

/* tid -> credentials at execve entry; LRU so a failed exec cannot fill it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct exec_creds);
} exec_pending SEC(".maps");

/* Programs executed in non-host mount namespaces, with what their exec gained. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct path_key);
	__type(value, struct exec_value);
} execs SEC(".maps");

/* tid -> user pointer to the path of an open that asked to write, until it returns. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} write_open_pending SEC(".maps");

/*
 * Paths whose write open failed with EROFS (read-only file system): without
 * privileged, /sys is mounted read-only in a container.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct path_key);
	__type(value, __u64);
} readonly_writes SEC(".maps");

/* Scratch space for the path keys, too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_key);
} path_scratch SEC(".maps");

/*
 * task_mntns reads the task's mount namespace and says whether its events
 * are recorded: not for the host's namespace, nor once an exiting task has
 * dropped its namespaces (nsproxy is NULL then and every read gives 0).
 */
static __always_inline int task_mntns(struct task_struct *task, struct mntns_key *ns)
{
	struct mnt_namespace *mnt = BPF_CORE_READ(task, nsproxy, mnt_ns);

	__builtin_memset(ns, 0, sizeof(*ns));
	if (!mnt)
		return 0;
	ns->inum = BPF_CORE_READ(mnt, ns.inum);
	if (bpf_core_field_exists(mnt->ns.ns_id))
		ns->id = BPF_CORE_READ(mnt, ns.ns_id);
	else
		ns->id = BPF_CORE_READ(mnt, seq);
	return ns->inum != 0 && ns->inum != host_mntns;
}

static __always_inline __u8 is_workload(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&workload_pids, &tgid) != 0;
}

static __always_inline void count(void *map, void *key)
{
	__u64 one = 1, *value;

	value = bpf_map_lookup_elem(map, key);
	if (value) {
		__sync_fetch_and_add(value, 1);
		return;
	}
	if (bpf_map_update_elem(map, key, &one, BPF_NOEXIST) == 0)
		return;
	/* Another CPU inserted the key first. */
	value = bpf_map_lookup_elem(map, key);
	if (value)
		__sync_fetch_and_add(value, 1);
}

/*
 * record_exec counts the program a task executed and what the exec changed
 * in its credentials, compared with those stashed at execve entry: a setuid
 * or setgid program changes the effective ids, a program with file
 * capabilities grows the permitted set. Both are what no-new-privileges
 * takes away.
 */
static __always_inline void record_exec(struct sched_process_exec_args *ctx, struct task_struct *task, struct mntns_key *ns)
{
	__u32 zero = 0, old_tid = ctx->old_pid;
	struct path_key *key = bpf_map_lookup_elem(&path_scratch, &zero);
	const struct cred *cred = BPF_CORE_READ(task, cred);
	struct exec_creds *before = bpf_map_lookup_elem(&exec_pending, &old_tid);
	struct exec_value one = {}, *value;
	kernel_cap_t permitted = {};
	__u32 euid, egid;
	__u64 gained = 0;
	__u8 changed = 0;

	if (!key || !cred)
		return;
	__builtin_memset(key, 0, sizeof(*key));
	key->mntns_id = ns->id;
	key->mntns = ns->inum;
	bpf_probe_read_kernel_str(key->path, sizeof(key->path), (void *)ctx + (ctx->filename_loc & 0xffff));

	euid = BPF_CORE_READ(cred, euid.val);
	egid = BPF_CORE_READ(cred, egid.val);
	bpf_core_read(&permitted, sizeof(permitted), &cred->cap_permitted);
	if (before) {
		gained = permitted.val & ~before->permitted;
		changed = euid != before->euid || egid != before->egid;
	}

	value = bpf_map_lookup_elem(&execs, key);
	if (!value) {
		/* Inserted here, or by another CPU first: look it up either way. */
		bpf_map_update_elem(&execs, key, &one, BPF_NOEXIST);
		value = bpf_map_lookup_elem(&execs, key);
		if (!value)
			goto out;
	}
	__sync_fetch_and_add(&value->count, 1);
	if (gained)
		__sync_fetch_and_or(&value->caps_gained, gained);
	if (changed && before) {
		__sync_fetch_and_add(&value->id_changes, 1);
		value->uid = before->uid;
		value->euid_before = before->euid;
		value->euid_after = euid;
		value->egid_before = before->egid;
		value->egid_after = egid;
	}
out:
	if (before)
		bpf_map_delete_elem(&exec_pending, &old_tid);
}

/* stash_exec_creds keeps the caller's credentials for record_exec. */
static __always_inline void stash_exec_creds(struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct exec_creds creds = {};
	kernel_cap_t permitted = {};

	if (!cred)
		return;
	creds.uid = BPF_CORE_READ(cred, uid.val);
	creds.euid = BPF_CORE_READ(cred, euid.val);
	creds.gid = BPF_CORE_READ(cred, gid.val);
	creds.egid = BPF_CORE_READ(cred, egid.val);
	if (bpf_core_read(&permitted, sizeof(permitted), &cred->cap_permitted))
		return;
	creds.permitted = permitted.val;
	bpf_map_update_elem(&exec_pending, &tid, &creds, BPF_ANY);
}

/*
 * The exec that ends a container runtime's setup: runc and crun init enter
 * the container's namespaces, mount, pivot, drop capabilities and install
 * seccomp, then execve the entrypoint (or the docker exec command). The
 * runtime init itself was exec'd on the host, so the first exec seen inside
 * a non-host mount namespace is the workload's. No comm is trusted. (A
 * runtime that execs a helper inside the container first, like runc 1.2's
 * runc-dmz, has that helper counted as workload: it only execs again.)
 */
SEC("tracepoint/sched/sched_process_exec")
int handle_exec(struct sched_process_exec_args *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 mark = 1;
	struct mntns_key ns;
	struct namespace_info info;
	const char *cgroup_name;

	if (!task_mntns(task, &ns))
		return 0;
	bpf_map_update_elem(&workload_pids, &tgid, &mark, BPF_ANY);
	record_exec(ctx, task, &ns);

	if (bpf_map_lookup_elem(&namespaces, &ns))
		return 0;
	__builtin_memset(&info, 0, sizeof(info));
	info.first_pid = tgid;
	BPF_CORE_READ_STR_INTO(&info.nodename, task, nsproxy, uts_ns, name.nodename);
	cgroup_name = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, name);
	if (cgroup_name)
		bpf_probe_read_kernel_str(&info.cgroup, sizeof(info.cgroup), cgroup_name);
	bpf_map_update_elem(&namespaces, &ns, &info, BPF_NOEXIST);
	return 0;
}

/* Children of workload processes are workload; threads share the group's mark. */
SEC("tracepoint/sched/sched_process_fork")
int handle_fork(struct sched_process_fork_args *ctx)
{
	__u32 child = ctx->child_pid;
	__u8 mark = 1;

	if (!is_workload())
		return 0;
	/* For a new thread this marks its tid too; the thread's exit removes it. */
	bpf_map_update_elem(&workload_pids, &child, &mark, BPF_ANY);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int handle_exit(struct sched_process_exit_args *ctx)
{
	__u32 pid = ctx->pid;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (pid != tgid)
		bpf_map_delete_elem(&workload_pids, &pid);
	if (exit_has_group_dead) {
		if (ctx->group_dead)
			bpf_map_delete_elem(&workload_pids, &tgid);
	} else if (pid == tgid) {
		bpf_map_delete_elem(&workload_pids, &tgid);
	}
	return 0;
}

SEC("tracepoint/capability/cap_capable")
int handle_cap_capable(struct cap_capable_args *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mntns_key ns;
	struct cap_key key;

	if (!task_mntns(task, &ns))
		return 0;
	__builtin_memset(&key, 0, sizeof(key));
	key.mntns_id = ns.id;
	key.mntns = ns.inum;
	key.cap = ctx->cap;
	key.denied = ctx->ret != 0;
	key.workload = is_workload();
	key.exec_setup = !key.workload && bpf_map_lookup_elem(&namespaces, &ns) != 0;
	/*
	 * overlayfs, for one, checks with its mounter's credentials: it installs
	 * them as current->cred (override_creds), so the check is compared with
	 * the task's own, objective real_cred instead.
	 */
	key.foreign_cred = ctx->cred != BPF_CORE_READ(task, real_cred);
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	key.stackid = bpf_get_stackid(ctx, &stacks, 0);
	count(&cap_checks, &key);
	return 0;
}

static __always_inline int is_nr(long id, __s32 nr)
{
	return nr >= 0 && id == nr;
}

static __always_inline void record_mknod(struct mntns_key *ns, __u64 mode, __u64 dev)
{
	struct device_key key;
	__u32 fmt = mode & S_IFMT;

	if (fmt != S_IFCHR && fmt != S_IFBLK)
		return;
	__builtin_memset(&key, 0, sizeof(key));
	key.mntns_id = ns->id;
	key.mntns = ns->inum;
	key.dev = dev;
	key.block = fmt == S_IFBLK;
	key.access = ACCESS_MKNOD;
	key.workload = is_workload();
	key.encoding = DEV_USER;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	count(&devices, &key);
}

static __always_inline __u64 cap_set64(__u32 lo, __u32 hi)
{
	return (__u64)hi << 32 | lo;
}

/*
 * record_capset notes what a capset(2) call keeps. A program that switches
 * to another user keeps the capabilities it still needs by asking for a
 * permitted set smaller than the one it has (dnsmasq, chronyd): those are
 * needs no cap_capable check reveals. A call that asks for the whole
 * permitted set it already has (raising its effective set, or keeping all)
 * says nothing about what is needed and is not recorded. Growing the
 * inheritable set beyond the inheritable and permitted sets is the one part
 * of capset that needs a capability (CAP_SETPCAP, cap_inh_is_capped): that
 * is recorded as kept too.
 */
static __always_inline void record_capset(struct task_struct *task, struct mntns_key *ns, unsigned long data_ptr)
{
	struct __user_cap_data_struct data[2];
	const struct cred *cred = BPF_CORE_READ(task, cred);
	kernel_cap_t permitted = {}, inheritable = {};
	__u64 asked, inh, kept = 0;
	struct capset_key key;
	struct capset_keep one = { .calls = 1 }, *value;

	if (!data_ptr || !cred)
		return;
	if (bpf_probe_read_user(&data, sizeof(data), (void *)data_ptr))
		return;
	if (bpf_core_read(&permitted, sizeof(permitted), &cred->cap_permitted) ||
	    bpf_core_read(&inheritable, sizeof(inheritable), &cred->cap_inheritable))
		return;
	asked = cap_set64(data[0].permitted | data[0].effective, data[1].permitted | data[1].effective);
	inh = cap_set64(data[0].inheritable, data[1].inheritable);
	/* Capabilities outside the permitted set make the call fail: never kept. */
	asked &= permitted.val;
	if (asked != permitted.val)
		kept = asked;
	if (inh & ~(inheritable.val | permitted.val))
		kept |= 1ULL << CAP_SETPCAP;
	if (!kept)
		return;

	__builtin_memset(&key, 0, sizeof(key));
	key.mntns_id = ns->id;
	key.mntns = ns->inum;
	key.workload = is_workload();
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	value = bpf_map_lookup_elem(&capset_keeps, &key);
	if (!value) {
		one.kept = kept;
		if (bpf_map_update_elem(&capset_keeps, &key, &one, BPF_NOEXIST) == 0)
			return;
		/* Another CPU inserted the key first. */
		value = bpf_map_lookup_elem(&capset_keeps, &key);
		if (!value)
			return;
	}
	__sync_fetch_and_or(&value->kept, kept);
	__sync_fetch_and_add(&value->calls, 1);
}

/* open_how_flags reads the flags of openat2(2)'s struct open_how (its first member). */
static __always_inline __u64 open_how_flags(unsigned long how)
{
	__u64 flags = 0;

	if (how)
		bpf_probe_read_user(&flags, sizeof(flags), (void *)how);
	return flags;
}

/* stash_write_open keeps the path of an open that asks to write, for record_readonly_write. */
static __always_inline void stash_write_open(unsigned long path, __u64 flags)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 ptr = path;

	if (!path || ((flags & O_ACCMODE) == 0 && !(flags & (O_CREAT | O_TRUNC))))
		return;
	bpf_map_update_elem(&write_open_pending, &tid, &ptr, BPF_ANY);
}

/* record_readonly_write counts the path of a write open that failed with EROFS. */
static __always_inline void record_readonly_write(struct mntns_key *ns, long ret)
{
	__u32 zero = 0, tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *ptr = bpf_map_lookup_elem(&write_open_pending, &tid);
	struct path_key *key;

	if (!ptr)
		return;
	if (ret == -EROFS) {
		key = bpf_map_lookup_elem(&path_scratch, &zero);
		if (key) {
			__builtin_memset(key, 0, sizeof(*key));
			key->mntns_id = ns->id;
			key->mntns = ns->inum;
			bpf_probe_read_user_str(key->path, sizeof(key->path), (void *)*ptr);
			count(&readonly_writes, key);
		}
	}
	bpf_map_delete_elem(&write_open_pending, &tid);
}

SEC("tracepoint/raw_syscalls/sys_enter")
int handle_sys_enter(struct sys_enter_args *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mntns_key ns;
	struct syscall_key key;
	long id = ctx->id;

	if (!task_mntns(task, &ns))
		return 0;
	__builtin_memset(&key, 0, sizeof(key));
	key.mntns_id = ns.id;
	key.mntns = ns.inum;
	key.nr = id;
	key.workload = is_workload();
	count(&syscalls, &key);

	if (is_nr(id, nr_mknod))
		record_mknod(&ns, ctx->args[1], ctx->args[2]);
	else if (is_nr(id, nr_mknodat))
		record_mknod(&ns, ctx->args[2], ctx->args[3]);
	else if (is_nr(id, nr_capset))
		record_capset(task, &ns, ctx->args[1]);
	else if (is_nr(id, nr_execve) || is_nr(id, nr_execveat))
		stash_exec_creds(task);
	else if (is_nr(id, nr_open))
		stash_write_open(ctx->args[0], ctx->args[1]);
	else if (is_nr(id, nr_creat))
		stash_write_open(ctx->args[0], O_WRONLY | O_CREAT | O_TRUNC);
	else if (is_nr(id, nr_openat))
		stash_write_open(ctx->args[1], ctx->args[2]);
	else if (is_nr(id, nr_openat2))
		stash_write_open(ctx->args[1], open_how_flags(ctx->args[2]));
	return 0;
}

/* record_open looks up the file behind a freshly opened fd and counts it if it is a device. */
static __always_inline void record_open(struct task_struct *task, struct mntns_key *ns, long fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = 0;
	struct inode *inode;
	struct device_key key;
	__u32 fmt, fmode;

	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return;
	inode = BPF_CORE_READ(file, f_inode);
	if (!inode)
		return;
	fmt = BPF_CORE_READ(inode, i_mode) & S_IFMT;
	if (fmt != S_IFCHR && fmt != S_IFBLK)
		return;
	fmode = BPF_CORE_READ(file, f_mode);

	__builtin_memset(&key, 0, sizeof(key));
	key.mntns_id = ns->id;
	key.mntns = ns->inum;
	key.dev = BPF_CORE_READ(inode, i_rdev);
	key.block = fmt == S_IFBLK;
	if (fmode & FMODE_READ)
		key.access |= ACCESS_READ;
	if (fmode & FMODE_WRITE)
		key.access |= ACCESS_WRITE;
	key.workload = is_workload();
	key.encoding = DEV_KERNEL;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	count(&devices, &key);
}

/*
 * A syscall refused by seccomp (SCMP_ACT_ERRNO) never reaches sys_enter but
 * does reach sys_exit with its own number and the errno: that is how a
 * replay shows what a profile refused.
 */
SEC("tracepoint/raw_syscalls/sys_exit")
int handle_sys_exit(struct sys_exit_args *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct mntns_key ns;
	long id = ctx->id, ret = ctx->ret;

	if (!task_mntns(task, &ns))
		return 0;

	if (is_nr(id, nr_open) || is_nr(id, nr_creat) || is_nr(id, nr_openat) || is_nr(id, nr_openat2))
		record_readonly_write(&ns, ret);

	if (ret == -EPERM || ret == -EACCES || ret == -ENOSYS) {
		struct syscall_error_key key;

		__builtin_memset(&key, 0, sizeof(key));
		key.mntns_id = ns.id;
		key.mntns = ns.inum;
		key.nr = id;
		key.err = -ret;
		count(&syscall_errors, &key);
		return 0;
	}

	if (ret >= 0 && (is_nr(id, nr_open) || is_nr(id, nr_creat) ||
			 is_nr(id, nr_openat) || is_nr(id, nr_openat2)))
		record_open(task, &ns, ret);
	return 0;
}
