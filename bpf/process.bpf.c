// SPDX-License-Identifier: GPL-2.0
/* Process life from sched tracepoints: exec (renames), exit (pid and comm stay on the flows),
 * fork. Part of trace.bpf.o (maps.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "netviz/events.h"
#include "maps.bpf.h"
#include "filters.bpf.h"
#include "helpers.bpf.h"
#include "trace_sock.bpf.h"

static __always_inline int process_event(__u8 type, struct task_struct *task, __u32 pid,
					 __u32 ppid)
{
	if (targ_pid && pid != targ_pid && ppid != targ_pid)
		return 0;
	__u32 netns = nv_task_netns(task);
	if (targ_netns && netns && netns != targ_netns)
		return 0;
	struct nv_event *e = reserve_event(type);
	if (!e)
		return 0;
	e->pid = pid;
	e->ppid = ppid;
	e->netns = netns;
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	if (type == NV_EV_EXIT)
		e->exit_code = BPF_CORE_READ(task, exit_code);
	submit_event(e);
	return 0;
}

SEC("tracepoint/sched/sched_process_exec")
int proc_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return process_event(NV_EV_EXEC, task, BPF_CORE_READ(task, tgid),
			     BPF_CORE_READ(task, real_parent, tgid));
}

SEC("tracepoint/sched/sched_process_exit")
int proc_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)id != (id >> 32))
		return 0; /* a thread, not the process */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return process_event(NV_EV_EXIT, task, id >> 32, BPF_CORE_READ(task, real_parent, tgid));
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 pid = BPF_CORE_READ(child, tgid);
	if (pid != BPF_CORE_READ(child, pid))
		return 0; /* a new thread */
	return process_event(NV_EV_FORK, child, pid, BPF_CORE_READ(parent, tgid));
}
