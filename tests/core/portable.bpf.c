// SPDX-License-Identifier: GPL-2.0
/* vmslim core fixture: every access that one of the pinned kernels lacks is guarded,
 * so the program resolves (or is dead code) on 6.1 and 6.18 alike. Lines that the test
 * checks carry a "@name" marker. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/* 6.1 keeps the change time as a timespec64, 6.18 as two fields. */
struct inode___old {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

struct inode___new {
	time64_t i_ctime_sec;
} __attribute__((preserve_access_index));

char LICENSE[] SEC("license") = "GPL";

__u64 out[8];

SEC("kprobe/vfs_getattr")
int BPF_KPROBE(ctime_probe, const struct path *path)
{
	struct inode *inode = BPF_CORE_READ(path, dentry, d_inode);
	__u64 t = 0;

	if (bpf_core_field_exists(struct inode___new, i_ctime_sec)) /* @guard_new */
		t = BPF_CORE_READ((struct inode___new *)inode, i_ctime_sec); /* @read_new */
	else if (bpf_core_field_exists(struct inode___old, i_ctime)) /* @guard_old */
		t = BPF_CORE_READ((struct inode___old *)inode, i_ctime.tv_sec); /* @read_old */
	out[0] = t;
	out[1] = bpf_core_type_size(struct inode); /* @inode_size */
	out[2] = bpf_core_field_size(inode->i_mode); /* @mode_size */
	out[3] = __builtin_preserve_field_info(inode->i_size, BPF_FIELD_SIGNED); /* @size_signed */
	if (bpf_core_enum_value_exists(enum bpf_map_type, BPF_MAP_TYPE_ARENA)) /* @arena_exists */
		out[4] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_ARENA); /* @arena_value */
	out[5] = bpf_core_enum_value(enum bpf_map_type, BPF_MAP_TYPE_USER_RINGBUF); /* @ringbuf_value */
	return 0;
}

SEC("kprobe/kfree_skb_reason")
int BPF_KPROBE(skb_probe, struct sk_buff *skb)
{
	/* next sits in an anonymous struct in an anonymous union of struct sk_buff */
	out[6] = (__u64)BPF_CORE_READ(skb, next); /* @anon_next */
	out[7] = BPF_CORE_READ(skb, len); /* @skb_len */
	return 0;
}
