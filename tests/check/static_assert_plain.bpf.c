// A static assertion that does not depend on any size: a real error.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define SLOTS 3
_Static_assert(SLOTS % 2 == 0, "SLOTS must be even");

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}
