// SPDX-License-Identifier: GPL-2.0
/* execsnoop: reports every successful exec with the new image's file name.
 *
 * The classic exec tracer: the sched_process_exec tracepoint hands us the pid, the pid
 * before a de-thread (old_pid) and the file name as a __data_loc field — a 32-bit word
 * whose low half is the offset of the string from the start of the record and whose high
 * half is its length. Events go to user space through a perf event array.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define FILENAME_LEN 256

struct exec_event {
	__u32 pid;
	__u32 old_pid;
	__u32 ppid;
	__u32 uid;
	char comm[TASK_COMM_LEN];
	char filename[FILENAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* The event is too large for the 512-byte stack, so it is built in a per-CPU slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_event);
} scratch SEC(".maps");

const volatile __u32 target_uid = (__u32)-1;

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u32 zero = 0;
	struct exec_event *e;
	unsigned int off;

	if (target_uid != (__u32)-1 && uid != target_uid)
		return 0;

	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;

	e->pid = ctx->pid;
	e->old_pid = ctx->old_pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = uid;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));

	off = ctx->__data_loc_filename & 0xFFFF;
	bpf_probe_read_str(&e->filename, sizeof(e->filename), (void *)ctx + off);

	bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
