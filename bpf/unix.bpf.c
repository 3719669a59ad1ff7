// SPDX-License-Identifier: GPL-2.0
/* Unix stream and seqpacket connections: the client's connect(), from the cgroup hook for
 * unix sockets (kernel 6.7 and later; the loader probes it at run time). The accept() side is
 * in unix_conn.bpf.h. Part of trace.bpf.o (maps.bpf.h). */
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

/* connect() on a unix socket, in the client, before the kernel looks the path up: who
 * connects, kept until accept() pairs it (or the socket goes). The pid filter is left to
 * accept(): either end may be the process asked for. */
SEC("cgroup/connect_unix")
int connect_unix(struct bpf_sock_addr *ctx)
{
	if (ctx->type != NV_SOCK_STREAM && ctx->type != NV_SOCK_SEQPACKET)
		return 1;
	struct nv_unix_pending p = {};
	p.start_ns = bpf_ktime_get_ns();
	p.pid = current_tgid();
	nv_current_comm(p.comm);
	__u64 cookie = bpf_get_socket_cookie(ctx);
	bpf_map_update_elem(&unix_connecting, &cookie, &p, BPF_ANY);
	return 1;
}

/* A write of ret bytes to the unix socket sk: counted when sk is the client of a connection
 * connect() recorded (its cookie is a key), before and after accept(), or its server (whose
 * peer is that client). A server write also names the process serving the connection, which
 * is not the one that accepted it when that one handed it on (PostgreSQL forks a backend). */
static __always_inline int unix_count_write(struct sock *sk, int ret)
{
	__u16 type = BPF_CORE_READ(sk, sk_type);
	if (type != NV_SOCK_STREAM && type != NV_SOCK_SEQPACKET)
		return 0;
	__u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	struct nv_unix_pending *p = cookie ? bpf_map_lookup_elem(&unix_connecting, &cookie) : NULL;
	if (p) {
		__sync_fetch_and_add(&p->bytes_sent, ret);
		return 0;
	}
	struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
	cookie = peer ? BPF_CORE_READ(peer, __sk_common.skc_cookie.counter) : 0;
	p = cookie ? bpf_map_lookup_elem(&unix_connecting, &cookie) : NULL;
	if (!p)
		return 0;
	__sync_fetch_and_add(&p->bytes_received, ret);
	__u32 tgid = current_tgid();
	if (p->server_pid != tgid) {
		p->server_pid = tgid;
		nv_current_comm(p->server_comm);
	}
	return 0;
}

/* Every write to any socket (sock_sendmsg: write(), send(), sendmsg()); a TCP or UDP write
 * leaves after the family test. */
SEC("raw_tp/sock_send_length")
int BPF_PROG(unix_send_length, struct sock *sk, int ret, int flags)
{
	if (ret <= 0 || BPF_CORE_READ(sk, __sk_common.skc_family) != NV_AF_UNIX)
		return 0;
	return unix_count_write(sk, ret);
}
