// SPDX-License-Identifier: GPL-2.0
/* No vmlinux.h at all: the slim path does not apply, the build is the plain one. */
#define SEC(name) __attribute__((section(name), used))

SEC("xdp")
int pass(void *ctx)
{
	return 2; /* XDP_PASS */
}

char LICENSE[] SEC("license") = "GPL";
