// SPDX-License-Identifier: GPL-2.0
/* vmslim lsp --target-btf fixture: i_ctime_sec exists in 6.18's struct inode only. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 out[4];

SEC("kprobe/vfs_getattr")
int BPF_KPROBE(ctime_new, const struct path *path)
{
	struct inode *inode = BPF_CORE_READ(path, dentry, d_inode);

	out[0] = BPF_CORE_READ(inode, i_ctime_sec); /* @bare */
	if (bpf_core_field_exists(inode->i_ctime_sec))
		out[1] = BPF_CORE_READ(inode, i_ctime_sec); /* @guarded */
	out[2] = BPF_CORE_READ(inode, i_mode); /* @both */
	return 0;
}
