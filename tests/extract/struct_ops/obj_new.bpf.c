// SPDX-License-Identifier: GPL-2.0
/* needs: struct tcp_congestion_ops
 *
 * Program-local types allocated with bpf_obj_new(): the local type id in the instruction
 * names a type whose members reach kernel types only through pointers and prototypes
 * (struct rate_sample, struct ack_sample), and typeof() names one of them through a
 * kernel ops struct. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;
extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;

#define obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))
#define obj_drop(p) bpf_obj_drop_impl(p, NULL)

struct cc_sample {
	__u64 when;
	const struct rate_sample *rs;
	typeof(((struct tcp_congestion_ops *)0)->pkts_acked) on_ack;
};

SEC("struct_ops/sampled_ssthresh")
__u32 BPF_PROG(sampled_ssthresh, struct sock *sk)
{
	struct cc_sample *s = obj_new(struct cc_sample);
	if (!s)
		return 2;
	s->when = bpf_ktime_get_ns();
	obj_drop(s);
	return 2;
}

SEC("struct_ops/sampled_undo_cwnd")
__u32 BPF_PROG(sampled_undo_cwnd, struct sock *sk)
{
	return 10;
}

SEC(".struct_ops")
struct tcp_congestion_ops sampled = {
	.ssthresh = (void *)sampled_ssthresh,
	.undo_cwnd = (void *)sampled_undo_cwnd,
	.name = "bpf_sampled",
};
