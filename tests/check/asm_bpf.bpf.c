// BPF inline assembly: TCC would assemble it as x86, so the fast checker cannot judge
// it and says so (unsupported) instead of blaming the program.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	asm volatile("r0 = 2" ::: "r0");
	return XDP_PASS;
}
