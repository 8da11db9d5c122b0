// SPDX-License-Identifier: GPL-2.0
/* A syntax error: the slim path cannot derive a header, the full-header build shows
 * clang's own error. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task()
	return t != 0;
}

char LICENSE[] SEC("license") = "GPL";
