// A helper that does not exist: an implicit declaration, an error for clang 16 and later
// (and for the BPF backend, which cannot call an unknown function).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp") int prog(struct xdp_md *ctx) {
	return bpf_no_such_helper(ctx);
}
