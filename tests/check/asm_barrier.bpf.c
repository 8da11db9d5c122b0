// libbpf's barriers are empty asm statements TCC can take: checked as usual.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	int n = ctx->ingress_ifindex;

	barrier();
	barrier_var(n);
	return n ? XDP_PASS : XDP_DROP;
}
