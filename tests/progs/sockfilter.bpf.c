// SPDX-License-Identifier: GPL-2.0
/* sockfilter: a socket filter for a raw packet socket that passes only DNS (UDP port
 * 53) over IPv4 and IPv6, truncated to the first 512 bytes, and counts what it drops.
 *
 * Socket filters may not read packet memory directly; bpf_skb_load_bytes() copies the
 * headers out, at offsets computed from the headers already read. The return value is
 * the number of bytes to keep (0 drops the packet).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IPPROTO_UDP_	17
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF
#define DNS_PORT	53
#define SNAPLEN		512

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");	/* 0: dropped, 1: passed */

static __always_inline int verdict(__u32 pass)
{
	__u64 *n = bpf_map_lookup_elem(&verdicts, &pass);

	if (n)
		__sync_fetch_and_add(n, 1);
	return pass ? SNAPLEN : 0;
}

SEC("socket")
int dns_filter(struct __sk_buff *skb)
{
	__u32 off = sizeof(struct ethhdr);
	struct udphdr udp;
	__u8 proto;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr iph;

		if (bpf_skb_load_bytes(skb, off, &iph, sizeof(iph)))
			return verdict(0);
		if (iph.frag_off & bpf_htons(IP_MF | IP_OFFSET))
			return verdict(0);
		proto = iph.protocol;
		off += iph.ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6h;

		if (bpf_skb_load_bytes(skb, off, &ip6h, sizeof(ip6h)))
			return verdict(0);
		proto = ip6h.nexthdr;
		off += sizeof(ip6h);
	} else {
		return verdict(0);
	}

	if (proto != IPPROTO_UDP_)
		return verdict(0);
	if (bpf_skb_load_bytes(skb, off, &udp, sizeof(udp)))
		return verdict(0);
	return verdict(udp.source == bpf_htons(DNS_PORT) || udp.dest == bpf_htons(DNS_PORT));
}

char LICENSE[] SEC("license") = "GPL";
