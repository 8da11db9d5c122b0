// SPDX-License-Identifier: GPL-2.0
/* unlinksnoop: traces file deletions with a kprobe/kretprobe pair on do_unlinkat().
 *
 * The entry probe remembers the name being removed, keyed by thread id; the return probe
 * pairs it with the result, so failed unlinks (ENOENT, EACCES) are reported too.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define NAME_LEN 128

struct unlink_start {
	__u64 ts;
	int dfd;
	char name[NAME_LEN];
};

struct unlink_event {
	__u32 pid;
	int dfd;
	long ret;
	__u64 duration_ns;
	char comm[TASK_COMM_LEN];
	char name[NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct unlink_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_entry, int dfd, struct filename *name)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct unlink_start start = {};
	const char *kname;

	start.ts = bpf_ktime_get_ns();
	start.dfd = dfd;
	kname = BPF_CORE_READ(name, name);
	bpf_probe_read_kernel_str(start.name, sizeof(start.name), kname);
	bpf_map_update_elem(&starts, &tid, &start, BPF_ANY);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(unlink_exit, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct unlink_start *start;
	struct unlink_event *e;

	start = bpf_map_lookup_elem(&starts, &tid);
	if (!start)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->pid = pid_tgid >> 32;
		e->dfd = start->dfd;
		e->ret = ret;
		e->duration_ns = bpf_ktime_get_ns() - start->ts;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		__builtin_memcpy(e->name, start->name, sizeof(e->name));
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
