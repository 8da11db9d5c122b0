// SPDX-License-Identifier: GPL-2.0
/* lsm_guard: a BPF LSM policy that denies opening protected inodes for writing and
 * denies executing binaries from protected directories (by the directory's inode), and
 * counts every denial.
 *
 * LSM programs attach to the bpf_lsm_* hooks; they get the hook's arguments plus the
 * return value of the previous LSM in the chain and must keep a denial by another LSM.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define EPERM 1
#define FMODE_WRITE 0x2

struct inode_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct inode_key);
	__type(value, __u8);
} protected SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} denials SEC(".maps");

static __always_inline int deny(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&denials, &which);

	if (n)
		__sync_fetch_and_add(n, 1);
	return -EPERM;
}

static __always_inline bool is_protected(struct inode *inode)
{
	struct inode_key key = {};

	key.ino = inode->i_ino;
	key.dev = inode->i_sb->s_dev;
	return bpf_map_lookup_elem(&protected, &key) != NULL;
}

SEC("lsm/file_open")
int BPF_PROG(guard_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	if (is_protected(file->f_inode))
		return deny(0);
	return 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(guard_exec, struct linux_binprm *bprm, int ret)
{
	struct dentry *parent;

	if (ret)
		return ret;
	parent = bprm->file->f_path.dentry->d_parent;
	if (parent && is_protected(parent->d_inode))
		return deny(1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
