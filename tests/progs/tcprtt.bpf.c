// SPDX-License-Identifier: GPL-2.0
/* tcprtt: keeps, per remote address, the latest TCP state seen when a segment arrives on
 * an established connection: smoothed RTT, its variance, congestion window, retransmits.
 *
 * The map is keyed and valued by the kernel's own types: struct in6_addr (IPv4 peers are
 * stored v4-mapped) and the uapi struct tcp_info that `ss -i` shows, so user space can
 * print it with the same code it uses for getsockopt(TCP_INFO).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct in6_addr);
	__type(value, struct tcp_info);
} peers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct tcp_info);
} scratch SEC(".maps");

const volatile __u16 target_port = 0;	/* remote port, host order; 0 = all */

static __always_inline void peer_key(struct sock *sk, u16 family, struct in6_addr *key)
{
	if (family == AF_INET6) {
		BPF_CORE_READ_INTO(key, sk, __sk_common.skc_v6_daddr);
		return;
	}
	key->in6_u.u6_addr32[0] = 0;
	key->in6_u.u6_addr32[1] = 0;
	key->in6_u.u6_addr32[2] = bpf_htonl(0xffff);
	key->in6_u.u6_addr32[3] = BPF_CORE_READ(sk, __sk_common.skc_daddr);
}

SEC("kprobe/tcp_rcv_established")
int BPF_KPROBE(tcp_rcv, struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct in6_addr key = {};
	struct tcp_info *info;
	u16 family, dport;
	u32 zero = 0;

	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (target_port && dport != target_port)
		return 0;

	info = bpf_map_lookup_elem(&scratch, &zero);
	if (!info)
		return 0;

	peer_key(sk, family, &key);
	info->tcpi_state = BPF_CORE_READ(sk, __sk_common.skc_state);
	info->tcpi_rtt = BPF_CORE_READ(tp, srtt_us) >> 3;
	info->tcpi_rttvar = BPF_CORE_READ(tp, mdev_us) >> 2;
	info->tcpi_snd_cwnd = BPF_CORE_READ(tp, snd_cwnd);
	info->tcpi_total_retrans = BPF_CORE_READ(tp, total_retrans);
	info->tcpi_segs_in = BPF_CORE_READ(tp, segs_in);
	info->tcpi_bytes_acked = BPF_CORE_READ(tp, bytes_acked);

	bpf_map_update_elem(&peers, &key, info, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
