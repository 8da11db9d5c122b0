// SPDX-License-Identifier: GPL-2.0
/* vmslim lsp fixture: completion, hover, definition and signature help positions are
 * found by the "@name" markers' lines. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp/sched/sched_process_exec")
int handle(void *ctx)
{
	struct task_struct *task = (void *)bpf_get_current_task(); /* @decl */
	int pid = task->tgid; /* @arrow */
	int ppid = BPF_CORE_READ(task, real_parent, tgid); /* @core_read */
	char buf[16];

	bpf_probe_read_kernel(buf, sizeof(buf), &task->comm); /* @call */
	return pid + ppid;
}
