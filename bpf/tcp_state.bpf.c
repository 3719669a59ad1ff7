// SPDX-License-Identifier: GPL-2.0
/* TCP life from sock:inet_sock_set_state: tp_btf (state_btf and state_btf_nested), or the
 * classic tracepoint (state_tp) where tp_btf does not load; the loader probes which before
 * loading and leaves the other flavour out. Part of trace.bpf.o (maps.bpf.h). */
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

/* The owner fields every TCP flow event takes from its socket's record. */
static __always_inline void owner_to_event(struct nv_event *e, const struct nv_sock_info *si)
{
	e->pid = si->pid;
	e->attribution = si->attribution;
	e->start_ns = si->start_ns;
	e->latency_ns = si->latency_ns;
	__builtin_memcpy(e->comm, si->comm, NV_COMM_LEN);
	if (si->attribution == NV_ATTR_HANDOFF) {
		e->prev_pid = si->prev_pid;
		e->prev_attribution = si->prev_attribution;
		__builtin_memcpy(e->prev_comm, si->prev_comm, NV_COMM_LEN);
	}
}

/* Without open events, a record still there when its socket address starts a new connection
 * is the only trace of a connection whose close the kernel never reported: send it as the
 * open event it was, so user space ends that flow (closes_not_reported) instead of never
 * knowing it. */
static __always_inline void report_stale(__u64 skp)
{
	struct nv_sock_info *old = bpf_map_lookup_elem(&socks, &skp);
	if (!old || !old->has_tuple)
		return;
	struct nv_event *e = reserve_event(old->attribution == NV_ATTR_CONNECT ? NV_EV_CONNECT
									: NV_EV_ACCEPT);
	if (!e)
		return;
	copy_tuple(e, &old->t);
	e->sk = skp;
	owner_to_event(e, old);
	submit_event(e);
}

/* A new owner record. Without open events, one already there is reported first (above);
 * trying BPF_NOEXIST first keeps that check off the common path. */
static __always_inline void store_owner(__u64 skp, const struct nv_sock_info *si)
{
	if (bpf_map_update_elem(&socks, &skp, si, quiet_opens ? BPF_NOEXIST : BPF_ANY) == 0)
		return;
	if (quiet_opens) {
		report_stale(skp);
		if (bpf_map_update_elem(&socks, &skp, si, BPF_ANY) == 0)
			return;
	}
	count_stat(NV_STAT_MAP_FULL);
}

#define NV_PF_KTHREAD 0x00200000

/* FIN_WAIT1 and LAST_ACK are entered only inside close() or shutdown() (tcp_close_state), in
 * the process that holds the socket last: a connection handed on after accept() (a forked
 * backend, a passed fd, an inherited worker) belongs to the process that closes it. */
static __always_inline void note_closer(__u64 skp)
{
	struct nv_sock_info *si = bpf_map_lookup_elem(&socks, &skp);
	if (!si)
		return;
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 pid = task->tgid;
	if (pid == si->pid || (task->flags & NV_PF_KTHREAD))
		return; /* the same process, or a delayed fput in a kernel worker */
	if (si->attribution != NV_ATTR_HANDOFF) {
		si->prev_pid = si->pid;
		si->prev_attribution = si->attribution;
		__builtin_memcpy(si->prev_comm, si->comm, NV_COMM_LEN);
	}
	si->pid = pid;
	si->attribution = NV_ATTR_HANDOFF;
	nv_current_comm(si->comm);
}

/* SYN_SENT, inside connect(): the caller is current. The local port may still be 0. */
static __always_inline void on_syn_sent(__u64 skp, const struct nv_tuple *t)
{
	__u32 pid = current_tgid();
	if (pid_filtered(pid) || port_filtered_connecting(t->lport, t->rport))
		return;
	struct nv_sock_info si = {};
	si.start_ns = si.syn_ns = bpf_ktime_get_ns();
	si.pid = pid;
	si.netns = t->netns;
	si.attribution = NV_ATTR_CONNECT;
	nv_current_comm(si.comm);
	store_owner(skp, &si);
}

/* SYN_SENT → ESTABLISHED: the client's connect latency; a connect event for a stream. */
static __always_inline void on_connected(__u64 skp, int old, const struct nv_tuple *t)
{
	struct nv_sock_info *si = bpf_map_lookup_elem(&socks, &skp);
	if (port_filtered(t->lport, t->rport))
		return;
	if (!si) {
		/* Filtered at SYN_SENT, or its record is gone (connect() began before
		 * tracing, or the record was lost): still a flow, without an owner. */
		if (targ_pid)
			return;
		count_stat(NV_STAT_NO_RECORD);
	}
	__u64 now = bpf_ktime_get_ns();
	if (si) {
		si->latency_ns = now - si->syn_ns;
		si->t = *t;
		si->has_tuple = 1;
		if (quiet_opens)
			return;
	}
	struct nv_event *e = reserve_event(NV_EV_CONNECT);
	if (!e)
		return;
	copy_tuple(e, t);
	e->sk = skp;
	e->state = old;
	if (si)
		owner_to_event(e, si);
	submit_event(e);
}

/* SYN_RECV → ESTABLISHED: server side, in softirq: owned by the listener until someone
 * accepts it. */
static __always_inline void on_server_established(__u64 skp, const struct nv_tuple *t)
{
	if (port_filtered(t->lport, t->rport))
		return;
	struct nv_sock_info si = {};
	si.start_ns = bpf_ktime_get_ns();
	si.netns = t->netns;
	si.attribution = NV_ATTR_LISTENER;
	struct listen_key lk = {.netns = t->netns, .port = t->lport};
	struct owner *o = bpf_map_lookup_elem(&listeners, &lk);
	if (o) {
		si.pid = o->pid;
		__builtin_memcpy(si.comm, o->comm, NV_COMM_LEN);
	}
	if (targ_pid && si.pid && si.pid != targ_pid)
		return;
	si.has_tuple = 1;
	si.t = *t;
	store_owner(skp, &si);
}

/* Payload only: bytes_acked and bytes_received count the SYN and FIN sequence numbers too,
 * so take data sent minus retransmissions, and drop the FIN from what came in. SOCK_DONE is
 * set by tcp_fin() alone; RCV_SHUTDOWN is also set by close(). tp is the BTF pointer
 * (direct loads) or NULL (CO-RE reads through sk). */
static __always_inline void close_bytes(struct nv_event *e, const struct sock *sk,
					const struct tcp_sock *tp)
{
	__u64 sent, retrans, rcvd, flags;
	if (tp) {
		sent = tp->bytes_sent;
		retrans = tp->bytes_retrans;
		rcvd = tp->bytes_received;
		flags = tp->inet_conn.icsk_inet.sk.__sk_common.skc_flags;
	} else {
		const struct tcp_sock *ctp = (const struct tcp_sock *)sk;
		sent = BPF_CORE_READ(ctp, bytes_sent);
		retrans = BPF_CORE_READ(ctp, bytes_retrans);
		rcvd = BPF_CORE_READ(ctp, bytes_received);
		flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	}
	e->bytes_sent = sent > retrans ? sent - retrans : 0;
	if ((flags & (1ULL << bpf_core_enum_value(enum sock_flags, SOCK_DONE))) && rcvd)
		rcvd--;
	e->bytes_received = rcvd;
}

/* → CLOSE: the flow's end, with its bytes; the owner record goes. */
static __always_inline void on_close(__u64 skp, const struct sock *sk,
				     const struct tcp_sock *tp, int old, const struct nv_tuple *t)
{
	if (old == NV_TCP_LISTEN)
		return;
	struct nv_sock_info *si = bpf_map_lookup_elem(&socks, &skp);
	if (!si && (old == NV_TCP_SYN_RECV || old == NV_TCP_SYN_SENT))
		return; /* a handshake we never saw start */
	if (old == NV_TCP_SYN_SENT) {
		/* connect() failed before any segment left (no local port free for that 4-tuple,
		 * no route): nothing reached the network, and its tuple may be that of a live
		 * connection, whose flow it must not end. */
		__u32 segs = tp ? tp->segs_out : BPF_CORE_READ((const struct tcp_sock *)sk, segs_out);
		if (!segs) {
			count_stat(NV_STAT_LOCAL_FAIL);
			goto out;
		}
	}
	if (port_filtered(t->lport, t->rport))
		goto out;
	if (targ_pid && si && si->pid != targ_pid && si->prev_pid != targ_pid)
		goto out;
	struct nv_event *e = reserve_event(NV_EV_CLOSE);
	if (!e)
		goto out;
	copy_tuple(e, t);
	e->sk = skp;
	e->state = old;
	if (old == NV_TCP_SYN_SENT)
		e->flags |= NV_FLAG_FAILED;
	if (si) {
		owner_to_event(e, si);
		if (si->attribution == NV_ATTR_LISTENER)
			e->flags |= NV_FLAG_NO_ACCEPT;
	}
	close_bytes(e, sk, tp);
	submit_event(e);
out:
	if (si)
		bpf_map_delete_elem(&socks, &skp);
}

/* tp is the BTF pointer in the tp_btf flavour (direct loads), NULL in the classic one. */
static __always_inline int on_tcp_state(__u64 skp, const struct sock *sk,
					const struct tcp_sock *tp, int old, int new,
					struct nv_tuple *t)
{
	if (t->proto != NV_PROTO_TCP || netns_filtered(t->netns))
		return 0;
	if (new == NV_TCP_FIN_WAIT1 || new == NV_TCP_LAST_ACK)
		note_closer(skp);
	else if (new == NV_TCP_SYN_SENT)
		on_syn_sent(skp, t);
	else if (new == NV_TCP_ESTABLISHED && old == NV_TCP_SYN_SENT)
		on_connected(skp, old, t);
	else if (new == NV_TCP_ESTABLISHED && old == NV_TCP_SYN_RECV)
		on_server_established(skp, t);
	else if (new == NV_TCP_CLOSE)
		on_close(skp, sk, tp, old, t);
	return 0;
}

static __always_inline int interesting_transition(int old, int new)
{
	return new == NV_TCP_SYN_SENT || new == NV_TCP_CLOSE || new == NV_TCP_FIN_WAIT1 ||
	       new == NV_TCP_LAST_ACK ||
	       (new == NV_TCP_ESTABLISHED && (old == NV_TCP_SYN_SENT || old == NV_TCP_SYN_RECV));
}

/* A tp_btf program is skipped (counted in its recursion_misses) when the tracepoint fires on a
 * CPU where the same program is already active: a softirq (loopback delivery) interrupting it
 * in process context. The kernel marks a program active a little before its first instruction
 * and until a little after its last, so a "running" flag set inside it misses those edges, and
 * a softirq arriving there processes its whole batch of packets (dozens of closes under load)
 * with both programs standing aside. Instead state_btf records, per CPU and per context (task
 * stack or IRQ stack: neither interrupts itself), the transition it took (map state_done);
 * state_btf_nested runs right after it in the same context and does the work unless that
 * record is its own. NV_STAT_NESTED then matches state_btf's recursion_misses; user space
 * counts any gap. */

/* 0 on the task's own stack, 1 elsewhere. x86_64 and arm64 run softirqs on a per-CPU IRQ
 * stack (ksoftirqd is a task and interrupts nobody); both programs of one tracepoint run are
 * called from the same frame, so they agree. THREAD_SIZE is 16 KiB on both (32 KiB with
 * KASAN: a task frame deeper than 16 KiB then shares level 1, see below).
 *
 * Where the stacks are not known, every context shares record 0. An interrupting run that
 * overwrites or clears the record then makes state_btf_nested repeat a transition state_btf
 * already took (user space merges a repeated connect and drops a repeated close, counted in
 * "duplicate_reports"). Skipping one it should take would need a record left over from the
 * very same socket address and transition; the kernel's recursion_misses against
 * NV_STAT_NESTED count what neither program took. */
static __always_inline __u32 context_level(void)
{
	if (one_context)
		return 0;
#if defined(__TARGET_ARCH_x86) || defined(__TARGET_ARCH_arm64)
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 base = (__u64)task->stack;
	__u64 fp;
	asm volatile("%0 = r10" : "=r"(fp));
	return fp - base < 16384 ? 0 : 1; /* THREAD_SIZE */
#else
	return 0;
#endif
}

static __always_inline int state_btf_body(struct sock *sk, int old, int new)
{
	if (!interesting_transition(old, new))
		return 0;
	struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	if (!tp)
		return 0;
	struct nv_tuple t = {};
	nv_read_tcp_tuple_btf(tp, &t);
	if (t.family != NV_AF_INET && t.family != NV_AF_INET6)
		return 0;
	return on_tcp_state((__u64)sk, sk, tp, old, new, &t);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_btf, struct sock *sk, int old, int new)
{
	__u32 lvl = context_level();
	struct state_done *d = bpf_map_lookup_elem(&state_done, &lvl);
	if (d) {
		d->sk = (__u64)sk;
		d->trans = (__u32)old << 8 | (__u32)new;
	}
	return state_btf_body(sk, old, new);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_btf_nested, struct sock *sk, int old, int new)
{
	/* Every transition, even those that need nothing: a skipped run of state_btf is counted
	 * by the kernel whatever the transition, and this count must match it. */
	__u32 lvl = context_level();
	struct state_done *d = bpf_map_lookup_elem(&state_done, &lvl);
	if (!d)
		return 0;
	if (d->sk == (__u64)sk && d->trans == ((__u32)old << 8 | (__u32)new)) {
		d->sk = 0; /* taken by state_btf; only our own record is cleared */
		return 0;
	}
	count_stat(NV_STAT_NESTED);
	return state_btf_body(sk, old, new);
}

SEC("tracepoint/sock/inet_sock_set_state")
int state_tp(struct trace_event_raw_inet_sock_set_state *ctx)
{
	int old = ctx->oldstate, new = ctx->newstate;
	if (!interesting_transition(old, new) || ctx->protocol != NV_PROTO_TCP)
		return 0;
	const struct sock *sk = ctx->skaddr;
	struct nv_tuple t = {};
	t.family = ctx->family;
	t.proto = ctx->protocol;
	t.lport = ctx->sport;
	t.rport = ctx->dport;
	t.netns = nv_sock_netns(sk);
	/* Copying the arrays out of ctx directly would move the ctx pointer (refused). */
	if (t.family == NV_AF_INET) {
		bpf_probe_read_kernel(t.laddr, 4, ctx->saddr);
		bpf_probe_read_kernel(t.raddr, 4, ctx->daddr);
	} else if (t.family == NV_AF_INET6) {
		bpf_probe_read_kernel(t.laddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(t.raddr, 16, ctx->daddr_v6);
	} else {
		return 0;
	}
	return on_tcp_state((__u64)sk, sk, NULL, old, new, &t);
}
