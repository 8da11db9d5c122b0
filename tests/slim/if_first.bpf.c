// SPDX-License-Identifier: GPL-2.0
/* An #if ahead of the include: the header cannot be parsed ahead of the program, the
 * slim path hands the build back (it is the one without --slim). */
#ifndef MAX_PIDS
#define MAX_PIDS 64
#endif
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PIDS);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 pid = ctx->pid;
	__u64 one = 1;

	bpf_map_update_elem(&seen, &pid, &one, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
