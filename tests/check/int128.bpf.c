// 128-bit integers in arithmetic and bit operations type-check.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	__u128 x = ctx->data;
	__int128 y = -1;
	unsigned __int128 z = x << 3;

	x |= z & 0xff;
	y += (__int128)x * 3;
	return (int)(x ^ (__u128)y) & 1;
}
