// Package tracer watches containers with eBPF to learn which Linux
// capabilities, system calls and device nodes they really use.
//
// New attaches tracepoint programs that count, per mount namespace, every
// capability check (with its kernel stack), system call, system call refused
// with EPERM, EACCES or ENOSYS, and device node opened or created by tasks
// outside the host's mount namespace. Nothing is streamed per event: Snapshot
// reads the counts. Counts are split by whether the task is the workload,
// i.e. descends from the first execve inside the namespace (the entrypoint or
// a docker exec command), or the container runtime setting the container up
// before that execve; no process name is trusted for this, so runc and crun
// are told apart alike.
//
// Mount namespace inode numbers are reused as soon as a namespace is freed;
// every record therefore also carries the namespace's never-reused id, and
// Snapshot.ForNodename selects one container's records by its hostname.
//
// The tracer needs Linux (amd64 or arm64), root and a kernel with BTF. New
// mounts tracefs at /sys/kernel/tracing when it is missing and leaves it
// mounted; Notes says so.
package tracer
