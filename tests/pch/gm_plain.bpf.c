// SPDX-License-Identifier: GPL-2.0
/* -gmodules fixture: no CO-RE anywhere (the pragma is off, no CO-RE macros) and no header
 * type in a map, a global or a signature, so an object built with -gmodules has the same
 * BTF as one built with -g; only the debug info of the task_struct walk stays in the PCH. */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} parent_tgid SEC(".maps");

SEC("kprobe/do_exit")
int on_exit(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct task_struct *parent = NULL;
	__u32 zero = 0;
	int tgid = 0;

	bpf_probe_read_kernel(&parent, sizeof(parent), &t->real_parent);
	bpf_probe_read_kernel(&tgid, sizeof(tgid), &parent->tgid);
	__u64 *slot = bpf_map_lookup_elem(&parent_tgid, &zero);
	if (slot)
		*slot = (__u64)tgid;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
