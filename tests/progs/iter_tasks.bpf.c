// SPDX-License-Identifier: GPL-2.0
/* iter_tasks: a task iterator that prints a ps-like table — pid, parent, state, threads,
 * resident pages and command — when user space reads the pinned iterator file
 * (bpftool iter pin iter_tasks.bpf.o /sys/fs/bpf/ps; cat /sys/fs/bpf/ps).
 *
 * The iterator calls the program once per task and once more with task == NULL at the
 * end; meta->seq_num counts the calls, so 0 is the place for a header line.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

const volatile bool threads_too = false;

static __always_inline char state_char(unsigned int state)
{
	if (state == 0)
		return 'R';
	if (state & 0x1)
		return 'S';
	if (state & 0x2)
		return 'D';
	if (state & (0x4 | 0x8))
		return 'T';
	return '?';
}

SEC("iter/task")
int dump_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	unsigned long vm_pages = 0;
	char comm[TASK_COMM_LEN];

	if (!task) {
		BPF_SEQ_PRINTF(seq, "-- end of %llu entries --\n", ctx->meta->seq_num);
		return 0;
	}
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "%8s %8s %s %7s %10s %s\n", "PID", "PPID", "S", "THREADS",
			       "VM_PAGES", "COMM");
	if (!threads_too && task->pid != task->tgid)
		return 0;

	/* Resident pages would mean summing rss_stat, whose type changed in 6.2 (atomics to
	 * percpu counters); the mapped size is stable across versions. */
	if (task->mm)
		vm_pages = task->mm->total_vm;
	__builtin_memcpy(comm, task->comm, sizeof(comm));
	BPF_SEQ_PRINTF(seq, "%8d %8d %c %7d %10lu %s\n", task->tgid, task->real_parent->tgid,
		       state_char(task->__state), task->signal->nr_threads, vm_pages, comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
