// SPDX-License-Identifier: GPL-2.0
/* tcpstates: counts TCP state transitions in a TCP_MAX_STATES x TCP_MAX_STATES matrix and
 * reports failed connects (SYN_SENT -> CLOSE) as events.
 *
 * It needs nothing from vmlinux.h but enum constants (the TCP_* states, BPF map types
 * and flags): the raw tracepoint's socket argument is never dereferenced. A trimmed
 * header must therefore keep those enums whole even though no type is used.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct connect_fail {
	__u32 pid;
	__u32 from;
	__u64 ts;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCP_MAX_STATES * TCP_MAX_STATES);
	__type(key, __u32);
	__type(value, __u64);
} transitions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} failures SEC(".maps");

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(on_state, const void *sk, int oldstate, int newstate)
{
	__u32 idx;
	__u64 *cnt;

	if (oldstate < TCP_ESTABLISHED || oldstate >= TCP_MAX_STATES ||
	    newstate < TCP_ESTABLISHED || newstate >= TCP_MAX_STATES)
		return 0;

	idx = oldstate * TCP_MAX_STATES + newstate;
	cnt = bpf_map_lookup_elem(&transitions, &idx);
	if (cnt)
		__sync_fetch_and_add(cnt, 1);

	if (oldstate == TCP_SYN_SENT && newstate == TCP_CLOSE) {
		struct connect_fail ev = {};

		ev.pid = bpf_get_current_pid_tgid() >> 32;
		ev.from = oldstate;
		ev.ts = bpf_ktime_get_ns();
		bpf_get_current_comm(ev.comm, sizeof(ev.comm));
		bpf_perf_event_output(ctx, &failures, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
