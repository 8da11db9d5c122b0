// bpf_for_each_map_elem callbacks, bpf_loop, __always_inline helpers, volatile .rodata
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define MAX_ENTRIES 1024

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

const volatile pid_t targ_pid = 0;
const volatile bool filter_cg = false;
volatile __u64 total SEC(".data.custom") = 0;

struct cb_ctx {
	u64 sum;
	u32 seen;
};

static __u64 sum_elem(struct bpf_map *map, u32 *key, u64 *val, struct cb_ctx *data)
{
	data->sum += *val;
	data->seen++;
	return 0;
}

static int loop_cb(u32 index, void *ctx)
{
	struct cb_ctx *c = ctx;
	c->sum += index;
	return index > 10 ? 1 : 0;
}

static __always_inline bool match_pid(pid_t pid)
{
	return !targ_pid || pid == targ_pid;
}

SEC("tp/sched/sched_switch")
int handle_switch(struct trace_event_raw_sched_switch *ctx)
{
	struct cb_ctx data = {};
	u32 pid = ctx->next_pid;
	u64 one = 1, *v;

	if (!match_pid(pid))
		return 0;
	v = bpf_map_lookup_elem(&counts, &pid);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&counts, &pid, &one, BPF_NOEXIST);
	bpf_for_each_map_elem(&counts, sum_elem, &data, 0);
	bpf_loop(100, loop_cb, &data, 0);
	total += data.sum;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
