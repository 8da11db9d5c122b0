// GNU C that clang accepts on real BPF code: statement expressions, typeof, __auto-free
// casts, compound literals, ternaries with void, bitfields, flexible arrays, labels as
// plain gotos, case ranges, __builtin_expect/constant_p, unnamed struct members, enums
// with explicit values, packed/aligned attributes, __builtin_offsetof, variadic bpf_printk
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#endif
#define min(a, b) ({ typeof(a) _a = (a); typeof(b) _b = (b); _a < _b ? _a : _b; })
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct hdr {
	u8 ver : 4, ihl : 4;
	u16 len;
	u8 data[];
} __attribute__((packed));

struct aligned_thing {
	u64 a;
	u32 b __attribute__((aligned(8)));
} __attribute__((aligned(16)));

enum my_state { ST_A = 1, ST_B = 1 << 3, ST_C = ST_A | ST_B };

static const int table[] = { [0] = 1, [3] = 4, [ST_B] = 9 };

static __always_inline int classify(int c)
{
	switch (c) {
	case 0 ... 9:
		return 1;
	case 'a' ... 'z':
		return 2;
	default:
		return 0;
	}
}

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 128);
	__type(key, struct sock *);
	__type(value, struct aligned_thing);
} socks SEC(".maps");

SEC("fentry/tcp_v4_connect")
int BPF_PROG(connect_entry, struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	struct aligned_thing t = { .a = bpf_ktime_get_ns(), .b = __builtin_offsetof(struct hdr, len) };
	u32 n = min((u32)addr_len, 16u);
	int i;
	if (__builtin_constant_p(n))
		n++;
	if (likely(sk))
		bpf_map_update_elem(&socks, &sk, &t, BPF_ANY);
	for (i = 0; i < (int)ARRAY_SIZE(table); i++) {
		if (table[i] == classify(i))
			goto out;
	}
	bpf_printk("connect %d %d %llu", n, sk->__sk_common.skc_family, t.a);
	bpf_printk("no args");
out:
	return (int)(struct { int x; }){ .x = 0 }.x;
}

SEC("fexit/tcp_v4_connect")
int BPF_PROG(connect_exit, struct sock *sk, struct sockaddr *uaddr, int addr_len, int ret)
{
	u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	u32 daddr = sk->__sk_common.skc_daddr;
	struct inet_sock *inet = (struct inet_sock *)sk;
	u16 sport = BPF_CORE_READ(inet, inet_sport);
	if (bpf_core_field_exists(sk->__sk_common.skc_v6_daddr))
		family++;
	if (bpf_core_type_exists(struct tcp_sock))
		family++;
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_loop))
		family++;
	bpf_printk("exit %d %u %u", ret, daddr, sport + family);
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(raw_enter, struct pt_regs *regs, long id)
{
	unsigned long arg0 = PT_REGS_PARM1_CORE(regs);
	struct file *f;
	char buf[8] = {};
	bpf_probe_read_kernel(&f, sizeof(f), (void *)arg0);
	bpf_probe_read_user(buf, sizeof(buf), (void *)PT_REGS_PARM2_CORE(regs));
	return id == 59 ? (int)arg0 : 0;
}

SEC("ksyscall/kill")
int BPF_KSYSCALL(kill_entry, pid_t pid, int sig)
{
	return pid == sig;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(openat_exit, long ret)
{
	return ret < 0;
}

char LICENSE[] SEC("license") = "GPL";
