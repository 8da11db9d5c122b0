// SPDX-License-Identifier: GPL-2.0
/* profile: a sampling CPU profiler. User space opens a perf event per CPU (e.g.
 * PERF_COUNT_SW_CPU_CLOCK at 99 Hz) and attaches this program; each sample counts the
 * (process, kernel stack, user stack) triple it interrupted.
 *
 * Stacks are stored once in a stack-trace map and referred to by id, which keeps the
 * counts map small; a failed stack walk (-EFAULT, -EEXIST on a hash collision) is
 * counted, not lost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define MAX_STACK_DEPTH 127

struct sample_key {
	__u32 pid;
	__s32 kern_stack_id;
	__s32 user_stack_id;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 40960);
	__type(key, struct sample_key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");	/* 0: samples, 1: idle, 2: stack errors, 3: sum of periods */

const volatile __u32 target_tgid = 0;
const volatile bool user_stacks_only = false;

static __always_inline void bump(__u32 slot, __u64 by)
{
	__u64 *v = bpf_map_lookup_elem(&totals, &slot);

	if (v)
		*v += by;
}

SEC("perf_event")
int do_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct sample_key key = {};
	__u64 one = 1, *cnt;

	bump(0, 1);
	bump(3, ctx->sample_period);
	if (id == 0) {		/* the idle task */
		bump(1, 1);
		return 0;
	}
	if (target_tgid && (id >> 32) != target_tgid)
		return 0;

	key.pid = id >> 32;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	key.user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
	if (user_stacks_only || PT_REGS_IP(&ctx->regs) < 0xffff800000000000ULL)
		key.kern_stack_id = -1;		/* sampled in user mode */
	else
		key.kern_stack_id = bpf_get_stackid(ctx, &stacks, 0);
	if (key.user_stack_id < 0 && key.kern_stack_id < 0)
		bump(2, 1);

	cnt = bpf_map_lookup_elem(&counts, &key);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
