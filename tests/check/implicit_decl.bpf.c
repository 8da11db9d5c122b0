// A helper that does not exist: an implicit declaration. clang 14 only warns, clang 16
// and later (and the BPF backend) reject it: the fast checker answers "unsupported".
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp") int prog(struct xdp_md *ctx) {
	return bpf_no_such_helper(ctx);
}
