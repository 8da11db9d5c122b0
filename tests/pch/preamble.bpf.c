// SPDX-License-Identifier: GPL-2.0
/* A preamble that changes the header: with the PCH included before the first line, these
 * #defines must reach the PCH too (or the object would differ from a plain build). */
#define __TARGET_ARCH_x86
#define BPF_NO_PRESERVE_ACCESS_INDEX /* no CO-RE attribute on the header's records */
#define EXEC_MAX(a, b) ((a) > (b) ? (a) : (b))
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tp/sched/sched_process_exec")
int on_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	return EXEC_MAX(ctx->pid, ctx->old_pid);
}

char LICENSE[] SEC("license") = "GPL";
