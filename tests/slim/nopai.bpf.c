// SPDX-License-Identifier: GPL-2.0
/* A #define ahead of the include that changes how the header reads (its pragma block):
 * the warm unit hands the program back, the one-shot path derives its slim header, and
 * the object is still the full header's. */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

__u32 last_tgid;

SEC("tp_btf/sched_process_fork")
int on_fork(u64 *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx[1];

	last_tgid = BPF_CORE_READ(child, tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
