// SPDX-License-Identifier: GPL-2.0
/* The snapshot's owner walk in the kernel: one record per open socket file of every process,
 * replacing the readlink of every /proc/PID/fd/N. User side: src/scan/bpf_owners.cpp. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "netviz/events.h"

char LICENSE[] SEC("license") = "GPL";

/* Reading the socket's own namespace and identity costs two cold cache lines per socket
 * (struct socket, struct sock); the owner walk does not need them, so they are off unless
 * asked for (the tracer's end-of-run check of who holds each open connection does). */
const volatile __u8 with_sock_netns = 0;

/* The process id as the reader's pid namespace numbers it, which is what its /proc shows:
 * task->tgid is the initial namespace's number, and differs inside a container. The
 * iterator only visits tasks visible from the reader's namespace, so the level exists. */
static __always_inline __u32 tgid_seen_by_reader(struct task_struct *task)
{
	struct task_struct *me = bpf_get_current_task_btf();
	unsigned int level = me->thread_pid->level;
	struct pid *p = task->group_leader->thread_pid;
	struct upid up = {};
	__u32 nr;

	/* The empty asm in each branch keeps clang from sinking both loads into one
	 * instruction on two pointer kinds, which the verifier refuses. */
	if (level == 0) {
		nr = task->tgid;
		asm volatile("" : "+r"(nr));
	} else {
		if (level > 32 || p->level < level)
			return 0;
		bpf_probe_read_kernel(&up, sizeof(up),
				      (void *)((unsigned long)p +
					       bpf_core_field_offset(struct pid, numbers) +
					       level * bpf_core_type_size(struct upid)));
		nr = up.nr;
		asm volatile("" : "+r"(nr));
	}
	return nr;
}

SEC("iter/task_file")
int snapshot_sock_files(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct nv_snap_sock_file rec = {};
	struct socket *sock;
	struct sock *sk;

	if (!task || !file)
		return 0;
	/* A thread sharing its leader's file table would repeat the leader's fds. The kernel
	 * already skips these on current kernels; the check keeps older ones honest. */
	if (task->pid != task->tgid && task->files == task->group_leader->files)
		return 0;
	/* Checks f_op against the socket file operations, which have no usable symbol here. */
	sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;

	rec.tgid = tgid_seen_by_reader(task);
	if (!rec.tgid)
		return 0;
	rec.fd = ctx->fd;
	rec.sock_ino = file->f_inode->i_ino;
	if (with_sock_netns) {
		sk = sock->sk;
		if (sk) {
			rec.sock_netns = sk->__sk_common.skc_net.net->ns.inum;
			rec.sk = (__u64)sk;
		}
	}
	rec.task_netns = task->nsproxy->net_ns->ns.inum;
	/* The process's name, as /proc/PID/comm shows it, even when a thread is visited. comm
	 * is NUL-padded by the kernel, so a plain copy is enough (user side stops at a NUL). */
	bpf_probe_read_kernel(rec.comm, sizeof(rec.comm), task->group_leader->comm);
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}
