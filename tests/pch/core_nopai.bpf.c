// SPDX-License-Identifier: GPL-2.0
/* The pragma is off, but BPF_CORE_READ still asks for CO-RE relocations explicitly:
 * -gmodules must not be tried (clang crashes on CO-RE with -gmodules). */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

SEC("kprobe/do_exit")
int on_exit(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, real_parent, tgid);
}

char LICENSE[] SEC("license") = "GPL";
