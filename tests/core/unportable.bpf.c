// SPDX-License-Identifier: GPL-2.0
/* vmslim core fixture: accesses that one pinned kernel cannot satisfy, unguarded
 * (errors) beside one guarded by a check on a different access (still an error). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

struct inode___old {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

char LICENSE[] SEC("license") = "GPL";

__u64 out[4];

SEC("kprobe/vfs_getattr")
int BPF_KPROBE(ctime_new, const struct path *path)
{
	struct inode *inode = BPF_CORE_READ(path, dentry, d_inode);

	out[0] = BPF_CORE_READ(inode, i_ctime_sec); /* @bare_new */
	return 0;
}

SEC("kprobe/vfs_statx")
int BPF_KPROBE(ctime_old, const struct path *path)
{
	struct inode___old *inode = (void *)BPF_CORE_READ(path, dentry, d_inode);

	/* the check names another field: it does not guard i_ctime */
	if (bpf_core_field_exists(struct inode, i_mode))
		out[1] = BPF_CORE_READ(inode, i_ctime.tv_sec); /* @bare_old */
	return 0;
}
