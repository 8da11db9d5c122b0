// SPDX-License-Identifier: GPL-2.0
/* core_compat: one object for kernels before and after three layout changes, decided at
 * load time with CO-RE existence checks instead of #ifdefs on a kernel version:
 *
 *  - task_struct::state was renamed __state in 5.14 (bpf_core_field_exists on a local
 *    "flavor" of the struct: the ___suffix is ignored when matching kernel types);
 *  - mm_struct::rss_stat went from struct mm_rss_stat (atomics) to an array of
 *    struct percpu_counter in 6.2 (bpf_core_type_exists);
 *  - cgroup subsystem ids depend on the kernel's config (bpf_core_enum_value).
 *
 * On every kill(2) it records the sender's and the signal's details.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

struct mm_rss_stat___pre62 {
	atomic_long_t count[NR_MM_COUNTERS];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

struct mm_struct___post62 {
	struct percpu_counter rss_stat[NR_MM_COUNTERS];
} __attribute__((preserve_access_index));

struct kill_record {
	__u32 sender;
	__u32 target;
	int sig;
	long state;
	__u64 anon_pages;
	__u64 memcg_id;
	__u32 comm_size;
	__u32 task_size;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct kill_record);
} kills SEC(".maps");

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

static __always_inline __u64 anon_pages(struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);

	if (!mm)
		return 0;
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;

		return BPF_CORE_READ(old, rss_stat.count[MM_ANONPAGES].counter);
	}
	/* The per-CPU deltas are not summed: the central count is close enough here. */
	return BPF_CORE_READ((struct mm_struct___post62 *)mm, rss_stat[MM_ANONPAGES].count);
}

static __always_inline __u64 memcg_id(struct task_struct *t)
{
	int ss, count;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	ss = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	count = bpf_core_enum_value(enum cgroup_subsys_id, CGROUP_SUBSYS_COUNT);
	if (ss < 0 || ss >= count)
		return 0;
	return BPF_CORE_READ(t, cgroups, subsys[ss], cgroup, kn, id);
}

SEC("ksyscall/kill")
int BPF_KSYSCALL(kill_entry, pid_t pid, int sig)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct kill_record rec = {};
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	rec.sender = bpf_get_current_pid_tgid() >> 32;
	rec.target = pid;
	rec.sig = sig;
	rec.state = task_state(task);
	rec.anon_pages = anon_pages(task);
	rec.memcg_id = memcg_id(task);
	rec.comm_size = bpf_core_field_size(task->comm);
	rec.task_size = bpf_core_type_size(struct task_struct);

	bpf_map_update_elem(&kills, &tid, &rec, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
