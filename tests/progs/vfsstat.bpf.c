// SPDX-License-Identifier: GPL-2.0
/* vfsstat: fentry/fexit on vfs_read and vfs_write, counting calls and bytes per file
 * name and measuring latency.
 *
 * fentry programs see the traced function's arguments as typed BTF pointers, so
 * file->f_path.dentry->d_name can be read directly; fexit also sees the return value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define DNAME_LEN 32

struct file_key {
	__u32 tgid;
	__u8 write;
	char name[DNAME_LEN];
};

struct file_stat {
	__u64 calls;
	__u64 bytes;
	__u64 total_ns;
	__u64 max_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct file_key);
	__type(value, struct file_stat);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

const volatile __u32 target_tgid = 0;

static __always_inline int on_entry(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 ts;

	if (target_tgid && (id >> 32) != target_tgid)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(struct file *file, ssize_t ret, __u8 write)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct file_key key = {};
	struct file_stat *st, zero = {};
	__u64 *tsp, delta;

	tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &tid);

	key.tgid = id >> 32;
	key.write = write;
	bpf_probe_read_kernel_str(key.name, sizeof(key.name), file->f_path.dentry->d_name.name);

	st = bpf_map_lookup_elem(&stats, &key);
	if (!st) {
		bpf_map_update_elem(&stats, &key, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&stats, &key);
		if (!st)
			return 0;
	}
	__sync_fetch_and_add(&st->calls, 1);
	if (ret > 0)
		__sync_fetch_and_add(&st->bytes, ret);
	__sync_fetch_and_add(&st->total_ns, delta);
	if (delta > st->max_ns)
		st->max_ns = delta;
	return 0;
}

SEC("fentry/vfs_read")
int BPF_PROG(read_entry, struct file *file, char *buf, size_t count, loff_t *pos)
{
	return on_entry();
}

SEC("fexit/vfs_read")
int BPF_PROG(read_exit, struct file *file, char *buf, size_t count, loff_t *pos, ssize_t ret)
{
	return on_exit(file, ret, 0);
}

SEC("fentry/vfs_write")
int BPF_PROG(write_entry, struct file *file, const char *buf, size_t count, loff_t *pos)
{
	return on_entry();
}

SEC("fexit/vfs_write")
int BPF_PROG(write_exit, struct file *file, const char *buf, size_t count, loff_t *pos,
	     ssize_t ret)
{
	return on_exit(file, ret, 1);
}

char LICENSE[] SEC("license") = "GPL";
