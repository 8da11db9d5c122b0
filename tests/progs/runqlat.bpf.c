// SPDX-License-Identifier: GPL-2.0
/* runqlat: run-queue latency — the time from a task becoming runnable (wakeup) to it
 * getting a CPU (switch-in) — as a log2 histogram in microseconds.
 *
 * The switch and wakeup hooks are BTF-typed tracepoints (tp_btf): the arguments are
 * real struct task_struct pointers the program may dereference directly. Wake-ups of new
 * tasks use a raw tracepoint, whose arguments are untyped, so they are read with
 * BPF_CORE_READ — the two styles side by side.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_SLOTS 26
#define TASK_RUNNING 0

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);
	__type(value, u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, u32);
	__type(value, u64);
} hist SEC(".maps");

const volatile pid_t target_tgid = 0;

static __always_inline int trace_enqueue(u32 tgid, u32 pid)
{
	u64 ts;

	if (!pid || (target_tgid && target_tgid != tgid))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p)
{
	return trace_enqueue(p->tgid, p->pid);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(on_wakeup_new, struct task_struct *p)
{
	return trace_enqueue(BPF_CORE_READ(p, tgid), BPF_CORE_READ(p, pid));
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u32 pid = next->pid, slot = 0;
	u64 *tsp, delta, *cnt;

	/* A preempted task goes straight back to the run queue. */
	if (prev->__state == TASK_RUNNING)
		trace_enqueue(prev->tgid, prev->pid);

	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return 0;
	delta = (bpf_ktime_get_ns() - *tsp) / 1000;
	bpf_map_delete_elem(&start, &pid);

	while (delta > 1 && slot < MAX_SLOTS - 1) {
		delta >>= 1;
		slot++;
	}
	cnt = bpf_map_lookup_elem(&hist, &slot);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
