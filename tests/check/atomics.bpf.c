// __sync_* and __atomic_* builtins with the __ATOMIC_* orders.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 total;
__u32 flag;

SEC("xdp")
int prog(struct xdp_md *ctx)
{
	__u64 old = __sync_fetch_and_add(&total, 1);
	__u32 expected = 0;

	__sync_fetch_and_or(&flag, 2);
	__sync_fetch_and_and(&flag, 3);
	__sync_fetch_and_xor(&flag, 1);
	old += __sync_val_compare_and_swap(&total, old, old + 1);
	old += __sync_lock_test_and_set(&total, 7);
	old += __atomic_fetch_add(&total, 1, __ATOMIC_RELAXED);
	old += __atomic_fetch_sub(&total, 1, __ATOMIC_SEQ_CST);
	old += __atomic_exchange_n(&total, 5, __ATOMIC_ACQ_REL);
	old += __atomic_load_n(&total, __ATOMIC_ACQUIRE);
	__atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
	if (__atomic_compare_exchange_n(&flag, &expected, 9, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		old++;
	return old ? XDP_PASS : XDP_DROP;
}
