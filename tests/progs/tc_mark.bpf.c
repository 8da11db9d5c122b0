// SPDX-License-Identifier: GPL-2.0
/* tc_mark: a TC classifier on egress that gives interactive traffic (SSH, DNS, and
 * TCP segments without payload such as bare ACKs) a higher priority and a mark that a
 * qdisc or routing rule can match.
 *
 * TC programs see the packet through struct __sk_buff; they may read it directly between
 * skb->data and skb->data_end, and bpf_skb_pull_data() makes non-linear headers readable.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17

#define MARK_INTERACTIVE 0x1
#define PRIO_INTERACTIVE 6

const volatile __u32 ssh_port = 22;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} marked SEC(".maps");

static __always_inline int mark_skb(struct __sk_buff *skb, __u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&marked, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
	skb->mark |= MARK_INTERACTIVE;
	skb->priority = PRIO_INTERACTIVE;
	return TC_ACT_OK;
}

SEC("tc")
int tc_mark_egress(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 l4_off;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (bpf_skb_pull_data(skb, sizeof(*eth) + sizeof(*iph) + sizeof(struct tcphdr)))
		return TC_ACT_OK;

	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return TC_ACT_OK;
	if (iph->version != 4 || iph->ihl < 5)
		return TC_ACT_OK;
	l4_off = sizeof(*eth) + iph->ihl * 4;

	if (iph->protocol == IPPROTO_TCP_) {
		struct tcphdr *th = data + l4_off;
		__u32 payload;

		if ((void *)(th + 1) > data_end)
			return TC_ACT_OK;
		if (th->dest == bpf_htons(ssh_port) || th->source == bpf_htons(ssh_port))
			return mark_skb(skb, 0);
		payload = bpf_ntohs(iph->tot_len) - iph->ihl * 4 - th->doff * 4;
		if (th->ack && payload == 0)
			return mark_skb(skb, 0);
	} else if (iph->protocol == IPPROTO_UDP_) {
		struct udphdr *uh = data + l4_off;

		if ((void *)(uh + 1) > data_end)
			return TC_ACT_OK;
		if (uh->dest == bpf_htons(53))
			return mark_skb(skb, 1);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
