// libbpf declares bpf_tail_call_static only under clang; the shim must declare it too
// (clang 14 and 19 accept this program). Also __builtin_expect_with_probability.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, u32);
} jmp SEC(".maps");

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	if (__builtin_expect_with_probability(ctx->ingress_ifindex == 1, 1, 0.9))
		bpf_tail_call_static(ctx, &jmp, 1);
	bpf_tail_call(ctx, &jmp, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
