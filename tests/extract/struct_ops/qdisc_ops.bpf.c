// SPDX-License-Identifier: GPL-2.0
/* needs: struct Qdisc_ops
 *
 * A qdisc (BPF qdiscs are 6.16 and later) whose ops have pointees the program only
 * passes along: struct nlattr and struct netlink_ext_ack (init, change), struct gnet_dump
 * (dump_stats), and the struct Qdisc_class_ops held by pointer, which stays a FWD. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/drop_enqueue")
int BPF_PROG(drop_enqueue, struct sk_buff *skb, struct Qdisc *sch, struct sk_buff **to_free)
{
	return 1; /* NET_XMIT_DROP; the kernel frees the skb */
}

SEC("struct_ops/drop_dequeue")
struct sk_buff *BPF_PROG(drop_dequeue, struct Qdisc *sch)
{
	return NULL;
}

SEC(".struct_ops")
struct Qdisc_ops drop_all = {
	.enqueue = (void *)drop_enqueue,
	.dequeue = (void *)drop_dequeue,
	.id = "bpf_drop_all",
};
