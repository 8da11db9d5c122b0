// GNU C's cast to a union type, which TCC lacks: unsupported, not an error (clang
// accepts this program).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

union word {
	u32 v;
	u8 b[4];
};

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	union word w = (union word)ctx->ingress_ifindex;
	return w.b[0] ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
