// SPDX-License-Identifier: GPL-2.0
/* Code before the header's include: the PCH path cannot reproduce this order, so the
 * build must be a plain one (and still succeed). */
typedef int before_t;
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	before_t pid = ctx->pid;

	return pid;
}

char LICENSE[] SEC("license") = "GPL";
