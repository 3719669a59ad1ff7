// SPDX-License-Identifier: GPL-2.0
/* Binds and UDP, from cgroup hooks: bind (TCP and UDP), connected UDP from connect() to its
 * release, and the datagrams of every UDP socket counted per packet (cgroup_skb) in kernel
 * maps; unconnected UDP flows are only counted there. Part of trace.bpf.o (maps.bpf.h). */
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

/* ---- bind, and which process uses a UDP socket ---- */

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
	if (pid_filtered(pid))
		return 1;
	if (sk->type != NV_SOCK_STREAM && sk->type != NV_SOCK_DGRAM)
		return 1;
	__u16 lport = sk->src_port;
	if (port_filtered(lport, 0))
		return 1;
	__u32 netns = nv_current_netns();
	if (netns_filtered(netns))
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
		COPY_IP6(e->laddr, sk, src_ip6);
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

/* ---- connected UDP: connect() to release ---- */

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
	if (pid_filtered(id >> 32))
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
		COPY_IP6(uc.laddr, sk, src_ip6);
		COPY_IP6(uc.raddr, sk, dst_ip6);
		unmap_v4(&uc.family, uc.laddr, uc.raddr);
	} else {
		return NULL;
	}
	if (netns_filtered(uc.netns) || port_filtered(uc.lport, uc.rport))
		return NULL;
	absorb_unconnected(cookie, &uc);
	struct nv_udp_conn *v;
	if (try_init(&udp_conns, &cookie, &uc, (void **)&v)) {
		struct nv_event *e = reserve_event(NV_EV_CONNECT);
		if (e) {
			udp_conn_event(e, cookie, &uc);
			submit_event(e);
		}
		v = bpf_map_lookup_elem(&udp_conns, &cookie);
	}
	return v;
}

/* Payload of the datagram in skb from the UDP header's length, or -1 if unreadable. off: the
 * UDP header's offset. */
static __always_inline long udp_payload(struct __sk_buff *skb, __u32 off, struct udphdr *uh)
{
	if (bpf_skb_load_bytes(skb, off & 0xff, uh, sizeof(*uh)))
		return -1;
	__u16 ulen = bpf_ntohs(uh->len);
	return ulen > 8 ? ulen - 8 : 0;
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
	long payload = udp_payload(skb, off, &uh);
	if (payload < 0)
		return 1;
	COUNT_DATAGRAM(uc, egress, (__u64)payload);
	uc->last_ns = bpf_ktime_get_ns();
	return 1;
}

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

/* The key of an unconnected datagram from its IP header (egress: local = source on the
 * wire); returns the UDP header's offset, or 0 for anything else. */
static __always_inline __u32 udp_key_from_ip(struct __sk_buff *skb, int egress,
					     struct nv_udp_key *k)
{
	if (skb->protocol == bpf_htons(0x0800)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) || ip.protocol != NV_PROTO_UDP)
			return 0;
		k->family = NV_AF_INET;
		__builtin_memcpy(egress ? k->laddr : k->raddr, &ip.saddr, 4);
		__builtin_memcpy(egress ? k->raddr : k->laddr, &ip.daddr, 4);
		return ip.ihl * 4;
	}
	if (skb->protocol == bpf_htons(0x86DD)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) || ip6.nexthdr != NV_PROTO_UDP)
			return 0;
		k->family = NV_AF_INET6;
		__builtin_memcpy(egress ? k->laddr : k->raddr, &ip6.saddr, 16);
		__builtin_memcpy(egress ? k->raddr : k->laddr, &ip6.daddr, 16);
		return sizeof(ip6);
	}
	return 0;
}

/* The one event of a new unconnected UDP flow; its counters are read at the end. */
static __always_inline void udp_flow_event(const struct nv_udp_key *k,
					   const struct nv_udp_val *nv, __u64 now)
{
	struct nv_event *e = reserve_event(NV_EV_UDP);
	if (!e)
		return;
	e->sk = k->cookie;
	e->netns = nv->netns;
	e->family = k->family;
	e->proto = NV_PROTO_UDP;
	e->lport = k->lport;
	e->rport = k->rport;
	__builtin_memcpy(e->laddr, k->laddr, NV_ADDR_LEN);
	__builtin_memcpy(e->raddr, k->raddr, NV_ADDR_LEN);
	e->pid = nv->pid;
	e->attribution = nv->attribution;
	e->start_ns = now;
	e->bytes_sent = nv->bytes_sent;
	e->bytes_received = nv->bytes_received;
	__builtin_memcpy(e->comm, nv->comm, NV_COMM_LEN);
	submit_event(e);
}

/* Count one datagram of an unconnected UDP socket, creating its flow on the first. */
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
	__u32 off = udp_key_from_ip(skb, egress, &k);
	if (!off)
		return 1;
	struct udphdr uh;
	long payload = udp_payload(skb, off, &uh);
	if (payload < 0)
		return 1;
	__u16 sport = bpf_ntohs(uh.source), dport = bpf_ntohs(uh.dest);
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
	__u64 now = bpf_ktime_get_ns();
	struct nv_udp_val *v = bpf_map_lookup_elem(&udp_flows, &k);
	if (v) {
		COUNT_DATAGRAM(v, egress, (__u64)payload);
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
	COUNT_DATAGRAM(&nv, egress, (__u64)payload);
	nv.attribution = egress ? NV_ATTR_UDP_SEND : NV_ATTR_UDP_RECV;
	if (o) {
		nv.pid = o->pid;
		nv.netns = o->netns;
		__builtin_memcpy(nv.comm, o->comm, NV_COMM_LEN);
	}
	if (try_init(&udp_flows, &k, &nv, (void **)&v))
		udp_flow_event(&k, &nv, now);
	else if (v) /* another CPU created it first */
		COUNT_DATAGRAM(v, egress, (__u64)payload);
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

/* Unconnected UDP, process side: remember who uses the socket. Counting happens per datagram
 * in the skb hooks above, which see every datagram (recv() without an address included) and
 * the addresses on the wire rather than a wildcard bind. */
static __always_inline int on_udp_msg(struct bpf_sock_addr *ctx)
{
	if (ctx->type != NV_SOCK_DGRAM)
		return 1;
	note_udp_owner(bpf_get_socket_cookie(ctx));
	return 1;
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
