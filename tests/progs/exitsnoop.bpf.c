// SPDX-License-Identifier: GPL-2.0
/* exitsnoop: reports process exits through a BPF ring buffer, with the process's age,
 * exit status and its open-files limit.
 *
 * The record is reserved directly in the ring buffer (no copy through the stack) and its
 * fields use the kernel's own types from vmlinux.h (pid_t, uid_t, struct rlimit), so the
 * record's layout is whatever the kernel says it is.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#define RLIMIT_NOFILE_IDX 7	/* from <asm-generic/resource.h>, a macro vmlinux.h lacks */

struct exit_event {
	pid_t pid;
	pid_t ppid;
	uid_t uid;
	int exit_code;
	int exit_signal;
	u64 age_ns;
	struct rlimit nofile;
	char comm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

const volatile bool threads_too = false;
const volatile u64 min_age_ns = 0;

SEC("tp/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 id = bpf_get_current_pid_tgid();
	pid_t pid = id >> 32, tid = (u32)id;
	struct signal_struct *sig;
	struct exit_event *e;
	u64 age;
	int code;

	/* A thread leaving is not a process exit unless asked. */
	if (!threads_too && pid != tid)
		return 0;

	age = bpf_ktime_get_ns() - BPF_CORE_READ(task, start_time);
	if (age < min_age_ns)
		return 0;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e)
		return 0;

	code = BPF_CORE_READ(task, exit_code);
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (uid_t)bpf_get_current_uid_gid();
	e->exit_code = (code >> 8) & 0xff;
	e->exit_signal = code & 0x7f;
	e->age_ns = age;
	sig = BPF_CORE_READ(task, signal);
	bpf_core_read(&e->nofile, sizeof(e->nofile), &sig->rlim[RLIMIT_NOFILE_IDX]);
	bpf_get_current_comm(&e->comm, sizeof(e->comm));

	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
