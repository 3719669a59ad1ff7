// SPDX-License-Identifier: GPL-2.0
/* Live tracing of sockets and processes (src/trace/ loads it). No kprobes, no fentry: TCP life
 * comes from sock:inet_sock_set_state (tp_btf, or the classic tracepoint where tp_btf does not
 * load), accept/listen from syscall tracepoints, bind and UDP from cgroup sock hooks, process
 * life from sched tracepoints. Events leave through one ring buffer; unconnected UDP datagrams
 * are only counted in a map. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "netviz/events.h"
#include "trace_sock.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Filters, set before load; 0 means any. */
const volatile __u32 targ_netns = 0;
const volatile __u32 targ_pid = 0;
const volatile __u32 targ_port = 0;
/* One hand-over record per CPU for every context (see context_level): the portable way, and
 * how tests run it on machines where the stacks are known. */
const volatile __u8 one_context = 0;
/* A capture (-o) needs no connect or accept events: the close carries the same record, and
 * user space reads the records still open at the end. Half the events of a connection. */
const volatile __u8 quiet_opens = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	/* 30,000 events: over a second of a full-speed storm; user space drains it every
	 * 100 ms or sooner (submit_event). Its pages count in the tracer's RSS. */
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NV_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/* TCP owner records (struct nv_sock_info in events.h). A plain hash, not an LRU: a record
 * is often deleted on another CPU than the one that stored it, and the LRU then takes that
 * CPU's list lock (bpf_common_lru_push_free); the plain hash frees to the current CPU's
 * list. About 0.6 us less state-program time per connection in a storm. It never evicts a
 * live connection's record either: a full map is counted (NV_STAT_MAP_FULL). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__type(key, __u64);
	__type(value, struct nv_sock_info);
} socks SEC(".maps");

/* Connected UDP by socket cookie: sock_release may not read addresses, so the tuple is kept
 * from connect(); the skb hooks count its datagrams here. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct nv_udp_conn);
} udp_conns SEC(".maps");

/* (netns, port) of a TCP listener → its owner, for connections closed before accept(). */
struct listen_key {
	__u32 netns;
	__u32 port;
};

struct owner {
	__u32 pid;
	__u32 _pad;
	char comm[NV_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct listen_key);
	__type(value, struct owner);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 131072);
	__type(key, struct nv_udp_key);
	__type(value, struct nv_udp_val);
} udp_flows SEC(".maps");

/* Unconnected UDP sockets (by cookie) → the process that last used them, recorded in
 * process context (bind, sendmsg, recvmsg) for the per-datagram skb hooks, which have none. */
struct udp_owner {
	__u32 pid;
	__u32 netns;
	char comm[NV_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct udp_owner);
} udp_owners SEC(".maps");

/* A UDP socket connect()ed and not yet heard from, by cookie: its addresses are chosen after
 * the connect hook, so its flow starts at its first datagram (the skb hooks read them there).
 * One released before any datagram is not a flow: nothing crossed the network. */
struct udp_pending {
	__u64 start_ns;
	__u32 pid;
	__u32 netns;
	char comm[NV_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct udp_pending);
} udp_connecting SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64);
} listening_fd SEC(".maps");

static __always_inline void count_stat(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &which);
	if (c)
		(*c)++;
}

static __always_inline struct nv_event *reserve_event(__u8 type)
{
	struct nv_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_stat(NV_STAT_RB_DROPS);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ts_ns = bpf_ktime_get_ns();
	return e;
}

/* User space drains on a 100 ms timeout anyway; a wakeup is needed only so that a burst
 * cannot fill the buffer in between. Every CPU forces one every NV_WAKEUP_EVERY of its own
 * records, counted per CPU: asking the buffer how much is waiting (bpf_ringbuf_query) read
 * the consumer position, a cache line user space writes after every record, and that cost
 * a storm about 0.2-0.3 us per connection. Forcing a wakeup on every record instead cost
 * about 300 ns per event (an irq_work each). */
#define NV_WAKEUP_EVERY 1024

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} submitted SEC(".maps");

static __always_inline void submit_event(struct nv_event *e)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&submitted, &zero);
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (n && ++*n % NV_WAKEUP_EVERY == 0)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

static __always_inline void copy_tuple(struct nv_event *e, const struct nv_tuple *t)
{
	e->netns = t->netns;
	e->family = t->family;
	e->proto = t->proto;
	e->lport = t->lport;
	e->rport = t->rport;
	__builtin_memcpy(e->laddr, t->laddr, NV_ADDR_LEN);
	__builtin_memcpy(e->raddr, t->raddr, NV_ADDR_LEN);
}

static __always_inline int port_filtered(__u16 lport, __u16 rport)
{
	return targ_port && lport != targ_port && rport != targ_port;
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* ---- TCP life: sock:inet_sock_set_state ---- */

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

/* tp is the BTF pointer in the tp_btf flavour (direct loads), NULL in the classic one. */
static __always_inline int on_tcp_state(__u64 skp, const struct sock *sk,
					const struct tcp_sock *tp, int old, int new,
					struct nv_tuple *t)
{
	if (t->proto != NV_PROTO_TCP)
		return 0;
	if (targ_netns && t->netns != targ_netns)
		return 0;

	if (new == NV_TCP_FIN_WAIT1 || new == NV_TCP_LAST_ACK) {
		note_closer(skp);
		return 0;
	}

	if (new == NV_TCP_SYN_SENT) {
		/* Inside connect(): the caller is current. The local port may still be 0. */
		__u32 pid = current_tgid();
		if (targ_pid && pid != targ_pid)
			return 0;
		if (targ_port && t->rport != targ_port && t->lport && t->lport != targ_port)
			return 0;
		struct nv_sock_info si = {};
		si.start_ns = si.syn_ns = bpf_ktime_get_ns();
		si.pid = pid;
		si.netns = t->netns;
		si.attribution = NV_ATTR_CONNECT;
		nv_current_comm(si.comm);
		store_owner(skp, &si);
		return 0;
	}

	if (new == NV_TCP_ESTABLISHED && old == NV_TCP_SYN_SENT) {
		struct nv_sock_info *si = bpf_map_lookup_elem(&socks, &skp);
		if (port_filtered(t->lport, t->rport))
			return 0;
		if (!si) {
			/* Filtered at SYN_SENT, or its record is gone (connect() began before
			 * tracing, or the record was lost): still a flow, without an owner. */
			if (targ_pid)
				return 0;
			count_stat(NV_STAT_NO_RECORD);
		}
		__u64 now = bpf_ktime_get_ns();
		if (si) {
			si->latency_ns = now - si->syn_ns;
			si->t = *t;
			si->has_tuple = 1;
			if (quiet_opens)
				return 0;
		}
		struct nv_event *e = reserve_event(NV_EV_CONNECT);
		if (!e)
			return 0;
		copy_tuple(e, t);
		e->sk = skp;
		e->state = old;
		if (si)
			owner_to_event(e, si);
		submit_event(e);
		return 0;
	}

	if (new == NV_TCP_ESTABLISHED && old == NV_TCP_SYN_RECV) {
		/* Server side, in softirq: owned by the listener until someone accepts it. */
		if (port_filtered(t->lport, t->rport))
			return 0;
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
			return 0;
		si.has_tuple = 1;
		si.t = *t;
		store_owner(skp, &si);
		return 0;
	}

	if (new != NV_TCP_CLOSE)
		return 0;
	if (old == NV_TCP_LISTEN)
		return 0;
	struct nv_sock_info *si = bpf_map_lookup_elem(&socks, &skp);
	if (!si && (old == NV_TCP_SYN_RECV || old == NV_TCP_SYN_SENT))
		return 0; /* a handshake we never saw start */
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
	/* Payload only: bytes_acked and bytes_received count the SYN and FIN sequence numbers
	 * too, so take data sent minus retransmissions, and drop the FIN from what came in.
	 * SOCK_DONE is set by tcp_fin() alone; RCV_SHUTDOWN is also set by close(). */
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
	submit_event(e);
out:
	if (si)
		bpf_map_delete_elem(&socks, &skp);
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
 * stack or IRQ stack: neither interrupts itself), the transition it took; state_btf_nested
 * runs right after it in the same context and does the work unless that record is its own.
 * NV_STAT_NESTED then matches state_btf's recursion_misses; user space counts any gap. */
struct state_done {
	__u64 sk;
	__u32 trans;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct state_done);
} state_done SEC(".maps");

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

/* ---- accept(): the worker that took the connection ---- */

static __always_inline int on_accept(long fd)
{
	if (fd < 0)
		return 0;
	__u32 pid = current_tgid();
	if (targ_pid && pid != targ_pid)
		return 0;
	struct sock *sk = nv_fd_sock(fd);
	if (!sk)
		return 0;
	__u64 skp = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	__u64 start = now;
	struct nv_tuple t = {};
	struct nv_sock_info *si = bpf_map_lookup_elem(&socks, &skp);
	if (si && si->has_tuple) {
		t = si->t;
	} else {
		if (nv_read_sock_tuple(sk, &t) || t.proto != NV_PROTO_TCP)
			return 0;
		/* Reset while it waited in the accept queue: its close was already reported as
		 * the listener's; do not open a flow that will never close. */
		if (BPF_CORE_READ(sk, __sk_common.skc_state) == NV_TCP_CLOSE)
			return 0;
	}
	if ((targ_netns && t.netns != targ_netns) || port_filtered(t.lport, t.rport))
		return 0;
	char comm[NV_COMM_LEN];
	nv_current_comm(comm); /* once: the map entry and the event */
	if (si) {
		si->pid = pid;
		si->attribution = NV_ATTR_ACCEPT;
		__builtin_memcpy(si->comm, comm, NV_COMM_LEN);
		start = si->start_ns;
	} else {
		struct nv_sock_info fresh = {};
		fresh.start_ns = now;
		fresh.netns = t.netns;
		fresh.pid = pid;
		fresh.attribution = NV_ATTR_ACCEPT;
		fresh.has_tuple = 1;
		fresh.t = t;
		__builtin_memcpy(fresh.comm, comm, NV_COMM_LEN);
		bpf_map_update_elem(&socks, &skp, &fresh, BPF_ANY);
	}
	if (quiet_opens)
		return 0;

	struct nv_event *e = reserve_event(NV_EV_ACCEPT);
	if (!e)
		return 0;
	copy_tuple(e, &t);
	e->sk = skp;
	e->pid = pid;
	e->attribution = NV_ATTR_ACCEPT;
	e->start_ns = start;
	__builtin_memcpy(e->comm, comm, NV_COMM_LEN);
	submit_event(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

/* ---- listen(): remember the listener's owner ---- */

SEC("tracepoint/syscalls/sys_enter_listen")
int enter_listen(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 fd = ctx->args[0];
	bpf_map_update_elem(&listening_fd, &tid, &fd, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_listen")
int exit_listen(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	__u64 *fdp = bpf_map_lookup_elem(&listening_fd, &tid);
	if (!fdp)
		return 0;
	long fd = (long)*fdp;
	bpf_map_delete_elem(&listening_fd, &tid);
	if (ctx->ret != 0)
		return 0;
	struct sock *sk = nv_fd_sock(fd);
	if (!sk)
		return 0;
	struct nv_tuple t = {};
	if (nv_read_sock_tuple(sk, &t) || t.proto != NV_PROTO_TCP)
		return 0;
	if (targ_netns && t.netns != targ_netns)
		return 0;
	struct owner o = {.pid = id >> 32};
	nv_current_comm(o.comm);
	struct listen_key lk = {.netns = t.netns, .port = t.lport};
	bpf_map_update_elem(&listeners, &lk, &o, BPF_ANY);
	if ((targ_pid && o.pid != targ_pid) || port_filtered(t.lport, 0))
		return 0;
	struct nv_event *e = reserve_event(NV_EV_LISTEN);
	if (!e)
		return 0;
	copy_tuple(e, &t);
	e->sk = (__u64)sk;
	e->pid = o.pid;
	e->attribution = NV_ATTR_BIND;
	__builtin_memcpy(e->comm, o.comm, NV_COMM_LEN);
	submit_event(e);
	return 0;
}

/* ---- cgroup sock hooks: bind, connected and unconnected UDP ---- */

static __always_inline void note_udp_owner(__u64 cookie)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct udp_owner *o = bpf_map_lookup_elem(&udp_owners, &cookie);
	if (o && o->pid == pid)
		return;
	struct udp_owner n = {.pid = pid};
	n.netns = nv_current_netns();
	nv_current_comm(n.comm);
	bpf_map_update_elem(&udp_owners, &cookie, &n, BPF_ANY);
}


static __always_inline int on_post_bind(struct bpf_sock *sk, __u8 family)
{
	if (sk->type == NV_SOCK_DGRAM)
		note_udp_owner(bpf_get_socket_cookie(sk));
	__u32 pid = current_tgid();
	if (targ_pid && pid != targ_pid)
		return 1;
	if (sk->type != NV_SOCK_STREAM && sk->type != NV_SOCK_DGRAM)
		return 1;
	__u16 lport = sk->src_port;
	if (port_filtered(lport, 0))
		return 1;
	__u32 netns = nv_current_netns();
	if (targ_netns && netns != targ_netns)
		return 1;
	struct nv_event *e = reserve_event(NV_EV_BIND);
	if (!e)
		return 1;
	e->netns = netns;
	e->family = family;
	e->proto = sk->type == NV_SOCK_STREAM ? NV_PROTO_TCP : NV_PROTO_UDP;
	e->lport = lport;
	if (family == NV_AF_INET) {
		__u32 a = sk->src_ip4;
		__builtin_memcpy(e->laddr, &a, 4);
	} else {
		__u32 a[4];
		a[0] = sk->src_ip6[0];
		a[1] = sk->src_ip6[1];
		a[2] = sk->src_ip6[2];
		a[3] = sk->src_ip6[3];
		__builtin_memcpy(e->laddr, a, 16);
	}
	e->pid = pid;
	e->attribution = NV_ATTR_BIND;
	nv_current_comm(e->comm);
	submit_event(e);
	return 1;
}

SEC("cgroup/post_bind4")
int post_bind4(struct bpf_sock *sk)
{
	return on_post_bind(sk, NV_AF_INET);
}

SEC("cgroup/post_bind6")
int post_bind6(struct bpf_sock *sk)
{
	return on_post_bind(sk, NV_AF_INET6);
}

/* The fields a connected UDP socket's connect and close events share. */
static __always_inline void udp_conn_event(struct nv_event *e, __u64 cookie,
					   const struct nv_udp_conn *uc)
{
	e->sk = cookie;
	if (uc->inbound)
		e->flags |= NV_FLAG_INBOUND;
	e->netns = uc->netns;
	e->family = uc->family;
	e->proto = NV_PROTO_UDP;
	e->lport = uc->lport;
	e->rport = uc->rport;
	__builtin_memcpy(e->laddr, uc->laddr, NV_ADDR_LEN);
	__builtin_memcpy(e->raddr, uc->raddr, NV_ADDR_LEN);
	e->pid = uc->pid;
	e->attribution = NV_ATTR_CONNECT;
	e->start_ns = uc->start_ns;
	__builtin_memcpy(e->comm, uc->comm, NV_COMM_LEN);
}

/* The close of a connected UDP flow (released, or connect()ed to another peer), with the
 * datagrams the skb hooks counted. */
static __always_inline void end_connected_udp(__u64 cookie)
{
	struct nv_udp_conn *uc = bpf_map_lookup_elem(&udp_conns, &cookie);
	if (!uc)
		return;
	struct nv_event *e = reserve_event(NV_EV_CLOSE);
	if (e) {
		udp_conn_event(e, cookie, uc);
		e->bytes_sent = uc->bytes_sent;
		e->bytes_received = uc->bytes_received;
		e->packets = uc->sent + uc->received;
		submit_event(e);
	}
	bpf_map_delete_elem(&udp_conns, &cookie);
}

/* connect() on a UDP socket, in the caller: remember who, until its first datagram. TCP needs
 * nothing here: SYN_SENT fires inside connect(). */
static __always_inline int on_udp_connect(struct bpf_sock_addr *ctx)
{
	if (ctx->type != NV_SOCK_DGRAM)
		return 1;
	__u64 id = bpf_get_current_pid_tgid();
	if (targ_pid && (id >> 32) != targ_pid)
		return 1;
	struct udp_pending p = {};
	p.start_ns = bpf_ktime_get_ns();
	p.pid = id >> 32;
	p.netns = nv_current_netns();
	nv_current_comm(p.comm);
	__u64 cookie = bpf_get_socket_cookie(ctx);
	end_connected_udp(cookie); /* connected again: the flow with the old peer ends */
	bpf_map_update_elem(&udp_connecting, &cookie, &p, BPF_ANY);
	return 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	return on_udp_connect(ctx);
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	return on_udp_connect(ctx);
}

SEC("cgroup/sock_release")
int sock_release(struct bpf_sock *sk)
{
	if (sk->type != NV_SOCK_DGRAM)
		return 1;
	__u64 cookie = bpf_get_socket_cookie(sk);
	bpf_map_delete_elem(&udp_owners, &cookie);
	if (bpf_map_delete_elem(&udp_connecting, &cookie) == 0)
		count_stat(NV_STAT_UDP_SILENT);
	end_connected_udp(cookie);
	return 1;
}

/* Unconnected UDP, process side: remember who uses the socket. Counting happens per datagram
 * in the skb hooks below, which see every datagram (recv() without an address included) and
 * the addresses on the wire rather than a wildcard bind. */
static __always_inline int on_udp_msg(struct bpf_sock_addr *ctx)
{
	if (ctx->type != NV_SOCK_DGRAM)
		return 1;
	note_udp_owner(bpf_get_socket_cookie(ctx));
	return 1;
}

/* An IPv4 peer of a dual-stack socket shows as ::ffff:a.b.c.d; the wire and the output
 * contract say a.b.c.d. */
static __always_inline void unmap_v4(__u8 *family, __u8 *laddr, __u8 *raddr)
{
	if (*family != NV_AF_INET6)
		return;
	__u64 l0 = *(__u64 *)laddr, r0 = *(__u64 *)raddr;
	__u32 l2 = *(__u32 *)(laddr + 8), r2 = *(__u32 *)(raddr + 8);
	__u32 mapped = bpf_htonl(0xffff);
	if (l0 || r0 || l2 != mapped || r2 != mapped)
		return;
	*family = NV_AF_INET;
	__u32 l = *(__u32 *)(laddr + 12), r = *(__u32 *)(raddr + 12);
	__builtin_memset(laddr, 0, NV_ADDR_LEN);
	__builtin_memset(raddr, 0, NV_ADDR_LEN);
	__builtin_memcpy(laddr, &l, 4);
	__builtin_memcpy(raddr, &r, 4);
}

/* A socket that heard from its peer before connect()ing to it (a UDP server that "accepts"
 * by connecting, as iperf3 does): the datagrams counted as unconnected become part of this
 * flow, which is then inbound, instead of a second one-sided flow. */
static __always_inline void absorb_unconnected(__u64 cookie, struct nv_udp_conn *uc)
{
	struct nv_udp_key k = {.cookie = cookie, .lport = uc->lport, .rport = uc->rport,
			       .family = uc->family};
	__builtin_memcpy(k.laddr, uc->laddr, NV_ADDR_LEN);
	__builtin_memcpy(k.raddr, uc->raddr, NV_ADDR_LEN);
	struct nv_udp_val *v = bpf_map_lookup_elem(&udp_flows, &k);
	if (!v)
		return;
	uc->inbound = v->attribution == NV_ATTR_UDP_RECV;
	if (v->first_ns && v->first_ns < uc->start_ns)
		uc->start_ns = v->first_ns;
	uc->sent += v->sent;
	uc->received += v->received;
	uc->bytes_sent += v->bytes_sent;
	uc->bytes_received += v->bytes_received;
	if (bpf_map_delete_elem(&udp_flows, &k) == 0)
		count_stat(NV_STAT_UDP_ABSORBED);
}

/* The first datagram of a socket connect()ed while tracing: its flow starts here, with the
 * addresses the kernel chose and the owner its connect() hook saw. */
static __always_inline struct nv_udp_conn *start_connected_udp(__u64 cookie, struct bpf_sock *sk)
{
	struct udp_pending *p = bpf_map_lookup_elem(&udp_connecting, &cookie);
	if (!p)
		return NULL;
	struct nv_udp_conn uc = {};
	uc.start_ns = p->start_ns;
	uc.last_ns = bpf_ktime_get_ns();
	uc.pid = p->pid;
	uc.netns = p->netns;
	__builtin_memcpy(uc.comm, p->comm, NV_COMM_LEN);
	bpf_map_delete_elem(&udp_connecting, &cookie);
	uc.family = sk->family;
	uc.lport = sk->src_port;
	uc.rport = bpf_ntohs(sk->dst_port);
	if (uc.family == NV_AF_INET) {
		__u32 l = sk->src_ip4, r = sk->dst_ip4;
		__builtin_memcpy(uc.laddr, &l, 4);
		__builtin_memcpy(uc.raddr, &r, 4);
	} else if (uc.family == NV_AF_INET6) {
		__u32 l[4], r[4];
		l[0] = sk->src_ip6[0];
		l[1] = sk->src_ip6[1];
		l[2] = sk->src_ip6[2];
		l[3] = sk->src_ip6[3];
		r[0] = sk->dst_ip6[0];
		r[1] = sk->dst_ip6[1];
		r[2] = sk->dst_ip6[2];
		r[3] = sk->dst_ip6[3];
		__builtin_memcpy(uc.laddr, l, 16);
		__builtin_memcpy(uc.raddr, r, 16);
		unmap_v4(&uc.family, uc.laddr, uc.raddr);
	} else {
		return NULL;
	}
	if ((targ_netns && uc.netns != targ_netns) || port_filtered(uc.lport, uc.rport))
		return NULL;
	absorb_unconnected(cookie, &uc);
	if (bpf_map_update_elem(&udp_conns, &cookie, &uc, BPF_NOEXIST) == 0) {
		struct nv_event *e = reserve_event(NV_EV_CONNECT);
		if (e) {
			udp_conn_event(e, cookie, &uc);
			submit_event(e);
		}
	}
	return bpf_map_lookup_elem(&udp_conns, &cookie);
}

/* Count one datagram of a connected UDP socket, on its connect() entry (none: the socket was
 * connected before tracing began, or filtered). */
static __always_inline int count_connected_udp(struct __sk_buff *skb, struct bpf_sock *sk,
					       int egress)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	struct nv_udp_conn *uc = bpf_map_lookup_elem(&udp_conns, &cookie);
	if (!uc) {
		uc = start_connected_udp(cookie, sk);
		if (!uc)
			return 1;
	}
	/* Payload from the UDP header's length, as for unconnected flows. */
	__u32 off = 40;
	if (skb->protocol == bpf_htons(0x0800)) {
		__u8 vihl;
		if (bpf_skb_load_bytes(skb, 0, &vihl, 1))
			return 1;
		off = (vihl & 0xf) * 4;
	}
	struct udphdr uh;
	if (bpf_skb_load_bytes(skb, off & 0xff, &uh, sizeof(uh)))
		return 1;
	__u16 ulen = bpf_ntohs(uh.len);
	__u64 payload = ulen > 8 ? ulen - 8 : 0;
	if (egress) {
		__sync_fetch_and_add(&uc->sent, 1);
		__sync_fetch_and_add(&uc->bytes_sent, payload);
	} else {
		__sync_fetch_and_add(&uc->received, 1);
		__sync_fetch_and_add(&uc->bytes_received, payload);
	}
	uc->last_ns = bpf_ktime_get_ns();
	return 1;
}

/* Count one datagram of an unconnected UDP socket. egress: local = source on the wire. */
/* Nonzero for a TCP packet, told from its IP header with direct packet access (no helper
 * call): these programs run on every packet and almost all of them are TCP. Anything else,
 * or a header not in the linear part, goes the full way. */
static __always_inline int is_tcp_packet(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	if (skb->protocol == bpf_htons(0x0800)) {
		struct iphdr *ip = data;
		return (void *)(ip + 1) <= end && ip->protocol == NV_PROTO_TCP;
	}
	if (skb->protocol == bpf_htons(0x86DD)) {
		struct ipv6hdr *ip6 = data;
		return (void *)(ip6 + 1) <= end && ip6->nexthdr == NV_PROTO_TCP;
	}
	return 0;
}

static __always_inline void count_udp_val(struct nv_udp_val *v, int egress, __u64 payload)
{
	if (egress) {
		__sync_fetch_and_add(&v->sent, 1);
		__sync_fetch_and_add(&v->bytes_sent, payload);
	} else {
		__sync_fetch_and_add(&v->received, 1);
		__sync_fetch_and_add(&v->bytes_received, payload);
	}
}

static __always_inline int count_udp_skb(struct __sk_buff *skb, int egress)
{
	if (is_tcp_packet(skb))
		return 1;
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != NV_PROTO_UDP || sk->type != NV_SOCK_DGRAM)
		return 1;
	if (sk->dst_port)
		return count_connected_udp(skb, sk, egress);
	struct nv_udp_key k = {};
	__u16 sport, dport, ulen;
	__u32 off;
	if (skb->protocol == bpf_htons(0x0800)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.protocol != NV_PROTO_UDP)
			return 1;
		off = ip.ihl * 4;
		k.family = NV_AF_INET;
		__builtin_memcpy(egress ? k.laddr : k.raddr, &ip.saddr, 4);
		__builtin_memcpy(egress ? k.raddr : k.laddr, &ip.daddr, 4);
	} else if (skb->protocol == bpf_htons(0x86DD)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) || ip6.nexthdr != NV_PROTO_UDP)
			return 1;
		off = sizeof(ip6);
		k.family = NV_AF_INET6;
		__builtin_memcpy(egress ? k.laddr : k.raddr, &ip6.saddr, 16);
		__builtin_memcpy(egress ? k.raddr : k.laddr, &ip6.daddr, 16);
	} else {
		return 1;
	}
	struct udphdr uh;
	if (bpf_skb_load_bytes(skb, off & 0xff, &uh, sizeof(uh)))
		return 1;
	sport = bpf_ntohs(uh.source);
	dport = bpf_ntohs(uh.dest);
	ulen = bpf_ntohs(uh.len);
	k.lport = egress ? sport : dport;
	k.rport = egress ? dport : sport;
	if (port_filtered(k.lport, k.rport))
		return 1;
	k.cookie = bpf_get_socket_cookie(skb);
	struct udp_owner *o = bpf_map_lookup_elem(&udp_owners, &k.cookie);
	if (targ_pid && (!o || o->pid != targ_pid))
		return 1;
	if (targ_netns && o && o->netns != targ_netns)
		return 1;
	__u64 payload = ulen > 8 ? ulen - 8 : 0;
	__u64 now = bpf_ktime_get_ns();
	struct nv_udp_val *v = bpf_map_lookup_elem(&udp_flows, &k);
	if (v) {
		count_udp_val(v, egress, payload);
		v->last_ns = now;
		if (!v->pid && o) {
			/* A socket older than the trace, first heard from before its owner used it
			 * in process context: the owner is known from here on. */
			v->pid = o->pid;
			v->netns = o->netns;
			__builtin_memcpy(v->comm, o->comm, NV_COMM_LEN);
		}
		return 1;
	}
	struct nv_udp_val nv = {};
	nv.first_ns = nv.last_ns = now;
	count_udp_val(&nv, egress, payload);
	nv.attribution = egress ? NV_ATTR_UDP_SEND : NV_ATTR_UDP_RECV;
	if (o) {
		nv.pid = o->pid;
		nv.netns = o->netns;
		__builtin_memcpy(nv.comm, o->comm, NV_COMM_LEN);
	}
	if (bpf_map_update_elem(&udp_flows, &k, &nv, BPF_NOEXIST) != 0) {
		/* Another CPU created it first. */
		v = bpf_map_lookup_elem(&udp_flows, &k);
		if (v)
			count_udp_val(v, egress, payload);
		return 1;
	}
	struct nv_event *e = reserve_event(NV_EV_UDP);
	if (!e)
		return 1;
	e->sk = k.cookie;
	e->netns = nv.netns;
	e->family = k.family;
	e->proto = NV_PROTO_UDP;
	e->lport = k.lport;
	e->rport = k.rport;
	__builtin_memcpy(e->laddr, k.laddr, NV_ADDR_LEN);
	__builtin_memcpy(e->raddr, k.raddr, NV_ADDR_LEN);
	e->pid = nv.pid;
	e->attribution = nv.attribution;
	e->start_ns = now;
	e->bytes_sent = nv.bytes_sent;
	e->bytes_received = nv.bytes_received;
	__builtin_memcpy(e->comm, nv.comm, NV_COMM_LEN);
	submit_event(e);
	return 1;
}

SEC("cgroup_skb/egress")
int udp_egress(struct __sk_buff *skb)
{
	return count_udp_skb(skb, 1);
}

SEC("cgroup_skb/ingress")
int udp_ingress(struct __sk_buff *skb)
{
	return count_udp_skb(skb, 0);
}

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
	return on_udp_msg(ctx);
}

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
	return on_udp_msg(ctx);
}

SEC("cgroup/recvmsg4")
int recvmsg4(struct bpf_sock_addr *ctx)
{
	return on_udp_msg(ctx);
}

SEC("cgroup/recvmsg6")
int recvmsg6(struct bpf_sock_addr *ctx)
{
	return on_udp_msg(ctx);
}

/* ---- process life ---- */

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
