// Array bounds from const variables: clang folds them (-Wgnu-folding-constant, a
// warning), TCC does not: "unsupported", never an error.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp/syscalls/sys_enter_write") int prog(void *ctx) {
	const unsigned n = 32;
	char b[n] = {0};
	bpf_probe_read_kernel(b, sizeof(b), ctx);
	return b[0];
}
char LICENSE[] SEC("license") = "GPL";
