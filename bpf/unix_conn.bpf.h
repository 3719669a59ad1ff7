/* Unix stream and seqpacket connections, the accept() side: called from the accept
 * tracepoints of tcp_syscalls.bpf.c when the accepted socket is not an inet one. The
 * client's connect() is recorded by unix.bpf.c. */
#ifndef NETVIZ_UNIX_CONN_BPF_H
#define NETVIZ_UNIX_CONN_BPF_H

/* The listener's name the accepted socket carries (unix_sock.addr), into c. */
static __always_inline void unix_read_path(struct sock *sk, struct nv_unix_conn *c)
{
	struct unix_address *addr = BPF_CORE_READ((struct unix_sock *)sk, addr);
	if (!addr)
		return;
	int len = BPF_CORE_READ(addr, len) - 2; /* less sun_family */
	if (len <= 0)
		return;
	if (len > NV_UNIX_PATH_LEN)
		len = NV_UNIX_PATH_LEN;
	c->path_len = len;
	bpf_probe_read_kernel(c->path, NV_UNIX_PATH_LEN,
			      (void *)addr + bpf_core_field_offset(struct unix_address, name) + 2);
}

/* accept() returned sk, a unix socket, in the server process pid: its peer is the client
 * socket, whose connect() was recorded by cookie. Both ends known, the edge is recorded. */
static __always_inline int unix_accepted(struct sock *sk, __u32 pid)
{
	__u16 type = BPF_CORE_READ(sk, sk_type);
	if (type != NV_SOCK_STREAM && type != NV_SOCK_SEQPACKET)
		return 0;
	struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
	if (!peer)
		return 0;
	__u64 cookie = BPF_CORE_READ(peer, __sk_common.skc_cookie.counter);
	struct nv_unix_pending *p = cookie ? bpf_map_lookup_elem(&unix_connecting, &cookie) : NULL;
	if (!p)
		return 0; /* connected before the trace, or by a filtered process */
	struct nv_unix_conn c = {};
	c.start_ns = p->start_ns;
	c.ino = BPF_CORE_READ(peer, sk_socket, file, f_inode, i_ino);
	c.pid = p->pid;
	__builtin_memcpy(c.comm, p->comm, NV_COMM_LEN);
	/* A process connected to itself is no edge; ports filter out every unix flow; --pid
	 * keeps a connection either of whose ends it names. The entry stays for a recorded
	 * connection only: its byte counts go on until user space ends it. */
	c.netns = nv_sock_netns(sk);
	if (c.pid == pid || port_filtered(0, 0) ||
	    (targ_pid && targ_pid != c.pid && targ_pid != pid) || netns_filtered(c.netns)) {
		bpf_map_delete_elem(&unix_connecting, &cookie);
		return 0;
	}
	c.peer_pid = pid;
	c.peer_ino = BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino);
	c.type = type;
	nv_current_comm(c.peer_comm);
	unix_read_path(sk, &c);
	/* User space reads new entries every second (no ring record: an edge needs the path,
	 * longer than an event, and its end is found from user space anyway). */
	if (bpf_map_update_elem(&unix_conns, &cookie, &c, BPF_ANY)) {
		count_stat(NV_STAT_MAP_FULL);
		bpf_map_delete_elem(&unix_connecting, &cookie);
	}
	return 0;
}

#endif
