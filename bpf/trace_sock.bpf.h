/* Socket helpers for the tracer's hook families: reading a struct sock through CO-RE (works
 * from every program type that may call bpf_probe_read_kernel, so both tracepoint flavours
 * share it). */
#ifndef NETVIZ_TRACE_SOCK_BPF_H
#define NETVIZ_TRACE_SOCK_BPF_H

#define NV_TCP_ESTABLISHED 1
#define NV_TCP_SYN_SENT 2
#define NV_TCP_SYN_RECV 3
#define NV_TCP_FIN_WAIT1 4
#define NV_TCP_CLOSE 7
#define NV_TCP_LAST_ACK 9
#define NV_TCP_LISTEN 10
#define NV_SOCK_STREAM 1
#define NV_SOCK_DGRAM 2
#define NV_SOCK_SEQPACKET 5

static __always_inline __u32 nv_sock_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Returns 0 for AF_INET/AF_INET6 sockets, -1 for anything else (unix, ...). */
static __always_inline int nv_read_sock_tuple(const struct sock *sk, struct nv_tuple *t)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != NV_AF_INET && family != NV_AF_INET6)
		return -1;
	t->family = family;
	t->proto = BPF_CORE_READ(sk, sk_protocol);
	/* inet_sport, not skc_num: the port is released (skc_num = 0) before the CLOSE
	 * transition is traced, while inet_sport stays, as in the classic tracepoint. */
	t->lport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	if (!t->lport)
		t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	t->netns = nv_sock_netns(sk);
	if (family == NV_AF_INET) {
		bpf_core_read(t->laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(t->raddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(t->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(t->raddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	return 0;
}

/* The struct sock behind file descriptor fd of the current task, or NULL. The task side is
 * walked with direct (BTF) loads; only the fd array slot and the two untyped pointers after
 * it need probe reads: this runs once per accept() in a connection storm. */
static __always_inline struct sock *nv_fd_sock(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = task->files;
	if (!files)
		return NULL;
	struct fdtable *fdt = files->fdt;
	if (!fdt || fd < 0 || fd >= fdt->max_fds)
		return NULL;
	struct file **fds = NULL;
	struct file *f = NULL;
	bpf_probe_read_kernel(&fds, sizeof(fds), &fdt->fd);
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]) || !f)
		return NULL;
	struct socket *sock = NULL;
	if (bpf_probe_read_kernel(&sock, sizeof(sock), &f->private_data) || !sock)
		return NULL;
	struct sock *sk = NULL;
	bpf_probe_read_kernel(&sk, sizeof(sk), &sock->sk);
	return sk;
}

/* The same tuple as nv_read_sock_tuple, with direct loads from a BTF pointer (tp_btf):
 * no helper calls on the hot path. */
static __always_inline void nv_read_tcp_tuple_btf(const struct tcp_sock *tp, struct nv_tuple *t)
{
	const struct inet_sock *inet = &tp->inet_conn.icsk_inet;
	const struct sock_common *c = &inet->sk.__sk_common;
	t->family = c->skc_family;
	t->proto = NV_PROTO_TCP;
	t->lport = bpf_ntohs(inet->inet_sport);
	if (!t->lport)
		t->lport = c->skc_num;
	t->rport = bpf_ntohs(c->skc_dport);
	t->netns = c->skc_net.net->ns.inum;
	if (t->family == NV_AF_INET) {
		__u32 l = c->skc_rcv_saddr, r = c->skc_daddr;
		__builtin_memcpy(t->laddr, &l, 4);
		__builtin_memcpy(t->raddr, &r, 4);
	} else {
		__u64 l0 = *(const __u64 *)&c->skc_v6_rcv_saddr;
		__u64 l1 = *((const __u64 *)&c->skc_v6_rcv_saddr + 1);
		__u64 r0 = *(const __u64 *)&c->skc_v6_daddr;
		__u64 r1 = *((const __u64 *)&c->skc_v6_daddr + 1);
		__builtin_memcpy(t->laddr, &l0, 8);
		__builtin_memcpy(t->laddr + 8, &l1, 8);
		__builtin_memcpy(t->raddr, &r0, 8);
		__builtin_memcpy(t->raddr + 8, &r1, 8);
	}
}

static __always_inline __u32 nv_task_netns(struct task_struct *task)
{
	struct nsproxy *ns = BPF_CORE_READ(task, nsproxy);
	if (!ns)
		return 0;
	return BPF_CORE_READ(ns, net_ns, ns.inum);
}

/* The process's name as ps shows it: the thread group leader's comm, not the calling
 * thread's (dig connects from a thread named isc-net-0000). */
static __always_inline void nv_current_comm(char *comm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	bpf_probe_read_kernel(comm, NV_COMM_LEN, task->group_leader->comm);
}

static __always_inline __u32 nv_current_netns(void)
{
	return nv_task_netns((struct task_struct *)bpf_get_current_task());
}

#endif
