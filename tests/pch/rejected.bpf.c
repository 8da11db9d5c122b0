// SPDX-License-Identifier: GPL-2.0
/* The verifier must reject this: bpf_map_lookup_elem() may return NULL and the value is
 * dereferenced unchecked ("invalid mem access 'map_value_or_null'"). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("tp/sched/sched_process_exec")
int on_exec(void *ctx)
{
	__u32 key = bpf_get_current_pid_tgid() >> 32;
	__u64 *n = bpf_map_lookup_elem(&counts, &key);

	*n += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
