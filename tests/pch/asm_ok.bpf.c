// SPDX-License-Identifier: GPL-2.0
/* Legitimate inline assembly, at file scope and in a function, for the asm audit: its
 * two-step build (frontend to IR, backend on the IR) must give the one-step object. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__asm__(".pushsection .text.extra\n"
	".popsection");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tp/syscalls/sys_enter_execve")
int on_exec(void *ctx)
{
	__u32 key = 0;
	__u64 v = bpf_get_prandom_u32();
	barrier_var(v);
	asm volatile("%[v] += 1\n\t"
		     "%[v] <<= 2" : [v] "+r"(v));
	__u64 *slot = bpf_map_lookup_elem(&counts, &key);
	if (slot)
		__sync_fetch_and_add(slot, v);
	return 0;
}
