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
	struct udp_pending p = {};
	p.start_ns = bpf_ktime_get_ns();
	p.pid = current_tgid();
	nv_current_comm(p.comm);
	__u64 cookie = bpf_get_socket_cookie(ctx);
	bpf_map_update_elem(&unix_connecting, &cookie, &p, BPF_ANY);
	return 1;
}
