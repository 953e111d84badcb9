package tracer

// The BPF objects are committed; regenerate them with `go generate ./tracer/`
// (needs clang and llvm-strip) after changing bpf/*.c or bpf/*.h.

//go:generate go tool bpf2go -tags linux -target bpfel -type mntns_key -type namespace_info -type cap_key -type syscall_key -type syscall_error_key -type device_key -type capset_key -type capset_keep -type path_key -type exec_value capprof bpf/capprof.bpf.c -- -Wall -Werror
