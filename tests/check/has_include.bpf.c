// __has_include: the prelude can only answer 0, so an error that may come from the branch
// clang would not take is "unsupported", not an error (clang accepts this program).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#if __has_include(<bpf/bpf_helpers.h>)
#define HAVE_HELPERS 1
#endif

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	return HAVE_HELPERS ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
