// SPDX-License-Identifier: GPL-2.0
/* mallocstat: uprobes on libc's malloc() and free() that keep a log2 histogram of
 * allocation sizes and track outstanding allocations per process, memleak style.
 *
 * The sections carry no target: user space attaches them with
 * bpf_program__attach_uprobe_opts() to the libc it finds, so one object serves every
 * distribution's libc path. BPF_KPROBE works for uprobes too: both see struct pt_regs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_SLOTS 32

struct alloc_info {
	__u64 size;
	__u64 ts;
	__u32 tgid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);		/* tid */
	__type(value, __u64);		/* requested size */
} sizes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1000000);
	__type(key, __u64);		/* address */
	__type(value, struct alloc_info);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

const volatile __u64 min_size = 0;

static __always_inline __u32 log2l(__u64 v)
{
	__u32 r = 0;

	for (int i = 0; i < 63 && v > 1; i++) {
		v >>= 1;
		r++;
	}
	return r;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, size_t size)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 sz = size;
	__u32 slot;
	__u64 *cnt;

	if (sz < min_size)
		return 0;
	slot = log2l(sz);
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	cnt = bpf_map_lookup_elem(&hist, &slot);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	bpf_map_update_elem(&sizes, &tid, &sz, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(malloc_exit, void *ptr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct alloc_info info = {};
	__u64 addr = (__u64)ptr;
	__u64 *sz;

	sz = bpf_map_lookup_elem(&sizes, &tid);
	if (!sz)
		return 0;
	info.size = *sz;
	info.ts = bpf_ktime_get_ns();
	info.tgid = id >> 32;
	bpf_map_delete_elem(&sizes, &tid);
	if (addr)
		bpf_map_update_elem(&allocs, &addr, &info, BPF_ANY);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, void *ptr)
{
	__u64 addr = (__u64)ptr;

	bpf_map_delete_elem(&allocs, &addr);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
