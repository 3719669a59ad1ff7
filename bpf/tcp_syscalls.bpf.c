// SPDX-License-Identifier: GPL-2.0
/* TCP syscalls: accept() (the process that took a connection; a unix one goes to
 * unix_conn.bpf.h) and listen() (a listener's owner, for connections closed before
 * accept()), from syscall tracepoints. Part of trace.bpf.o (maps.bpf.h). */
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
#include "unix_conn.bpf.h"

/* ---- accept(): the worker that took the connection ---- */

static __always_inline int on_accept(long fd)
{
	if (fd < 0)
		return 0;
	__u32 pid = current_tgid();
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
		if (nv_read_sock_tuple(sk, &t))
			return unix_accepted(sk, pid);
		if (t.proto != NV_PROTO_TCP)
			return 0;
		/* Reset while it waited in the accept queue: its close was already reported as
		 * the listener's; do not open a flow that will never close. */
		if (BPF_CORE_READ(sk, __sk_common.skc_state) == NV_TCP_CLOSE)
			return 0;
	}
	/* After the unix branch: a unix connection is wanted when either end is --pid. */
	if (pid_filtered(pid))
		return 0;
	if (netns_filtered(t.netns) || port_filtered(t.lport, t.rport))
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
	if (netns_filtered(t.netns))
		return 0;
	struct owner o = {.pid = id >> 32};
	nv_current_comm(o.comm);
	struct listen_key lk = {.netns = t.netns, .port = t.lport};
	/* Before the pid and port filters: a listener's connections may still be wanted. */
	bpf_map_update_elem(&listeners, &lk, &o, BPF_ANY);
	if (pid_filtered(o.pid) || port_filtered(t.lport, 0))
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
