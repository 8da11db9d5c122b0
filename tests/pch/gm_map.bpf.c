// SPDX-License-Identifier: GPL-2.0
/* -gmodules fixture: no CO-RE, but the map's value is a header type. Under -gmodules it
 * would become a forward declaration in BTF (libbpf: "can't determine value size"), so
 * vmslim must fall back to -g. */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, u32);
	__type(value, struct file_ra_state);
} ra SEC(".maps");

SEC("tp/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	u32 pid = ctx->pid;
	struct file_ra_state *v = bpf_map_lookup_elem(&ra, &pid);

	return v ? (int)v->size : 0;
}

char LICENSE[] SEC("license") = "GPL";
