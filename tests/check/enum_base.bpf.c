// C23 fixed underlying type: clang takes it, TCC 0.9.27 cannot parse it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

enum small : __u8 { SMALL_A, SMALL_B };

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	return SMALL_B;
}
