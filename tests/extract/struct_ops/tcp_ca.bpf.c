// SPDX-License-Identifier: GPL-2.0
/* needs: struct tcp_congestion_ops
 *
 * A congestion control that only sets three of the ops. The variable's BTF still holds
 * every member, and clang emits the pointees of each member's prototype in full:
 * struct ack_sample (pkts_acked), struct rate_sample (cong_control) and union tcp_cc_info
 * (get_info) must come out complete though the program never names them. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/flat_init")
void BPF_PROG(flat_init, struct sock *sk)
{
}

SEC("struct_ops/flat_ssthresh")
__u32 BPF_PROG(flat_ssthresh, struct sock *sk)
{
	return 4;
}

SEC("struct_ops/flat_undo_cwnd")
__u32 BPF_PROG(flat_undo_cwnd, struct sock *sk)
{
	return 10;
}

SEC(".struct_ops")
struct tcp_congestion_ops flat = {
	.init = (void *)flat_init,
	.ssthresh = (void *)flat_ssthresh,
	.undo_cwnd = (void *)flat_undo_cwnd,
	.name = "bpf_flat",
};
