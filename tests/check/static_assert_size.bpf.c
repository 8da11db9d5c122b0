// TCC has no 128-bit integer (the prelude makes it 8 bytes), so a static assertion on
// a size that involves one cannot be judged: unsupported, never a false error.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct wide {
	__u64 a;
	__u128 b;
};

_Static_assert(sizeof(struct wide) == 32, "struct wide has a 16-byte member");

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}
