/* The one header shared by the BPF programs (bpf/) and user space (src/).
 * Fixed-width types only, explicit padding, so both sides agree on every layout. */
#ifndef NETVIZ_EVENTS_H
#define NETVIZ_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NV_COMM_LEN 16
#define NV_ADDR_LEN 16 /* an IPv6 address; IPv4 uses the first 4 bytes */

/* Address families as the kernel numbers them (AF_INET, AF_INET6, ...). */
#define NV_AF_INET 2
#define NV_AF_INET6 10
#define NV_AF_UNIX 1

/* ---- Snapshot: records written by the BPF iterators (bpf/snapshot_iter.bpf.c) ---- */

/* One open socket file of one process, written by iter/task_file with bpf_seq_write.
 * Threads sharing their leader's file table are skipped, so each (tgid, fd) comes once. */
struct nv_snap_sock_file {
	__u32 tgid;
	__u32 fd;
	__u64 sock_ino;    /* inode of the socket (as in /proc/PID/fd -> socket:[N]) */
	__u32 sock_netns;  /* inode of the socket's network namespace; 0 unless asked for */
	__u32 task_netns;  /* inode of the process's network namespace; 0 when exiting */
	char comm[NV_COMM_LEN];
	__u64 sk;          /* kernel identity of the socket (as in nv_event.sk); 0 unless asked */
};

/* ---- Live tracing: ring buffer events (bpf/trace.bpf.c) ---- */

/* What a ring buffer record says happened. */
#define NV_EV_CONNECT 1 /* TCP established by a local connect(); connected UDP connect() */
#define NV_EV_ACCEPT 2  /* a worker took a TCP connection off a listener's queue */
#define NV_EV_CLOSE 3   /* TCP reached CLOSE; connected UDP socket released */
#define NV_EV_BIND 4
#define NV_EV_LISTEN 5
#define NV_EV_UDP 6     /* first datagram of an unconnected UDP flow (netns, pid, local, remote) */
#define NV_EV_EXEC 7
#define NV_EV_EXIT 8
#define NV_EV_FORK 9

/* Where the pid of a socket event came from. */
#define NV_ATTR_NONE 0     /* no owner known in the kernel (socket older than the trace) */
#define NV_ATTR_CONNECT 1  /* the process that called connect() */
#define NV_ATTR_ACCEPT 2   /* the process that called accept() */
#define NV_ATTR_LISTENER 3 /* closed before any accept(): the listening socket's owner */
#define NV_ATTR_UDP_SEND 4 /* first seen on an unconnected sendto()/sendmsg() */
#define NV_ATTR_UDP_RECV 5 /* first seen on an unconnected recvfrom()/recvmsg() */
#define NV_ATTR_BIND 6     /* the process that called bind() or listen() */
#define NV_ATTR_HANDOFF 7  /* the process that closed it, not the one that opened it (prev_pid) */

#define NV_PROTO_TCP 6
#define NV_PROTO_UDP 17
#define NV_PROTO_UNIX 255 /* not an IP protocol: nv_event.proto of a unix connection */

/* nv_event.flags */
#define NV_FLAG_FAILED 1     /* TCP connect that never reached ESTABLISHED */
#define NV_FLAG_NO_ACCEPT 4  /* server side closed before accept() */
#define NV_FLAG_INBOUND 8    /* connected UDP whose peer spoke first (a server that connect()s) */

/* One ring buffer record; every kind uses the same fixed 152-byte layout. Addresses are in
 * network byte order (IPv4 in the first 4 bytes), ports in host byte order, times are
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC). */
struct nv_event {
	__u64 ts_ns;
	__u64 sk;            /* kernel identity of the socket (struct sock address); 0: none */
	__u64 start_ns;      /* flow start: SYN_SENT, ESTABLISHED on the server, connect(); 0: unknown */
	__u64 bytes_sent;    /* TCP payload at close: bytes sent less retransmissions */
	__u64 bytes_received;
	__u64 latency_ns;    /* TCP connect latency (SYN_SENT to ESTABLISHED); 0: not measured */
	__u32 pid;           /* tgid */
	__u32 ppid;
	__u32 netns;         /* inode of the network namespace */
	__u16 lport;
	__u16 rport;
	__u8 type;           /* NV_EV_* */
	__u8 family;         /* NV_AF_INET / NV_AF_INET6; 0 for process events */
	__u8 proto;          /* NV_PROTO_TCP / NV_PROTO_UDP */
	__u8 attribution;    /* NV_ATTR_* */
	__u8 state;          /* TCP state before the event (kernel numbering) */
	__u8 flags;          /* NV_FLAG_* */
	__u8 prev_attribution; /* NV_ATTR_HANDOFF: how the previous owner was learnt */
	__u8 _pad0;
	__u32 exit_code;     /* NV_EV_EXIT */
	__u8 laddr[NV_ADDR_LEN];
	__u8 raddr[NV_ADDR_LEN];
	char comm[NV_COMM_LEN]; /* the process's name (thread group leader), as ps shows it */
	__u32 packets;       /* connected UDP close: datagrams both ways */
	__u32 prev_pid;      /* NV_ATTR_HANDOFF: the process that accepted or connected it */
	char prev_comm[NV_COMM_LEN];
};

/* Unconnected UDP flows are counted in the kernel per datagram (cgroup_skb, so addresses are
 * those on the wire and every datagram counts, however it was sent or received): one map
 * entry per key, one NV_EV_UDP event when the entry is created; user space reads the
 * counters at the end. */
struct nv_udp_key {
	__u64 cookie;    /* the socket: request and reply are one flow whoever is its owner */
	__u16 lport;
	__u16 rport;
	__u8 family;
	__u8 _pad[3];
	__u8 laddr[NV_ADDR_LEN];
	__u8 raddr[NV_ADDR_LEN];
};

struct nv_udp_val {
	__u64 first_ns;
	__u64 last_ns;
	__u64 sent;      /* datagrams */
	__u64 received;
	__u64 bytes_sent;     /* UDP payload */
	__u64 bytes_received;
	char comm[NV_COMM_LEN];
	__u32 pid;        /* 0 until a process is seen using the socket (older than the trace) */
	__u32 netns;
	__u8 attribution; /* NV_ATTR_UDP_SEND / NV_ATTR_UDP_RECV: how the flow was first seen */
	__u8 _pad[7];
};

/* A connected UDP socket (by cookie) from connect() to its release, with its datagrams
 * counted in the kernel like unconnected ones; user space reads those still open at the end. */
struct nv_udp_conn {
	__u64 start_ns;
	__u64 last_ns;
	__u64 sent;      /* datagrams */
	__u64 received;
	__u64 bytes_sent;     /* UDP payload */
	__u64 bytes_received;
	__u32 pid;
	__u32 netns;
	__u16 lport;
	__u16 rport;
	__u8 family;
	__u8 inbound;    /* the peer spoke first: its earlier unconnected datagrams are counted here */
	__u8 _pad[2];
	__u8 laddr[NV_ADDR_LEN];
	__u8 raddr[NV_ADDR_LEN];
	char comm[NV_COMM_LEN];
};

/* A socket's tuple and namespace as the kernel holds them. */
struct nv_tuple {
	__u32 netns;
	__u16 lport;
	__u16 rport;
	__u8 family;
	__u8 proto;
	__u8 laddr[NV_ADDR_LEN];
	__u8 raddr[NV_ADDR_LEN];
	__u8 _pad[2];
};

/* Who owns a TCP socket, keyed by its struct sock address: from SYN_SENT (or the server's
 * ESTABLISHED) to CLOSE, which reports it and deletes it. For a capture (no stream) the
 * kernel sends no connect or accept events: the close carries everything, and user space
 * reads the records of connections still open at the end (has_tuple set). */
struct nv_sock_info {
	__u64 start_ns;
	__u64 syn_ns;
	__u64 latency_ns;  /* SYN_SENT to ESTABLISHED; 0 until then or not measured */
	__u32 pid;
	__u32 netns;
	char comm[NV_COMM_LEN];
	__u8 attribution;  /* NV_ATTR_* */
	__u8 has_tuple;    /* established: t is set */
	__u8 prev_attribution;
	__u8 _pad;
	__u32 prev_pid;    /* NV_ATTR_HANDOFF: the owner before the closing process */
	char prev_comm[NV_COMM_LEN];
	struct nv_tuple t;
};

/* A unix stream or seqpacket connection, from the client's connect() (cgroup/connect_unix)
 * paired at the server's accept(); kept in the unix_conns map by the client socket's cookie.
 * One record is the whole edge: both processes and the server's path. The kernel has no
 * release hook for unix sockets: user space reads the map and ends a connection once no
 * process holds the client socket (by inode) any more. */
#define NV_UNIX_PATH_LEN 108 /* sizeof sockaddr_un.sun_path */

/* A unix stream or seqpacket socket that called connect(), in the unix_connecting map by its
 * cookie from connect() until user space forgets the connection: who connected, and the bytes
 * written by each end (the client's writes before accept() included). */
struct nv_unix_pending {
	__u64 start_ns;       /* the client's connect() */
	__u64 bytes_sent;     /* written by the client */
	__u64 bytes_received; /* written by the server */
	__u32 pid;
	__u32 server_pid;     /* the last process that wrote on the server end; 0: none yet */
	char comm[NV_COMM_LEN];
	char server_comm[NV_COMM_LEN];
};

struct nv_unix_conn {
	__u64 start_ns;      /* the client's connect() */
	__u64 ino;           /* the client socket's inode (as nv_snap_sock_file.sock_ino): unlike its
			      * struct sock address, not reused by the next socket */
	__u64 peer_ino;      /* the accepted (server) socket's inode: who holds it serves it */
	__u32 pid;           /* the process that connected (client) */
	__u32 peer_pid;      /* the process that accepted (server) */
	__u32 netns;
	__u16 path_len;      /* bytes of path; path[0] == 0: an abstract name */
	__u8 type;           /* SOCK_STREAM (1) or SOCK_SEQPACKET (5) */
	__u8 _pad;
	char comm[NV_COMM_LEN];
	char peer_comm[NV_COMM_LEN];
	char path[NV_UNIX_PATH_LEN]; /* the listener's name, as the kernel holds it */
	__u8 _pad2[4];
};

/* Filters set in .rodata before load; 0 means "any". */
#define NV_STAT_RB_DROPS 0 /* ring buffer reservations that failed */
#define NV_STAT_NESTED 1   /* TCP state changes caught by the nested-run backup program */
#define NV_STAT_NO_RECORD 2 /* a TCP connect or accepted socket whose owner record was gone */
#define NV_STAT_MAP_FULL 3  /* an owner record that could not be stored */
#define NV_STAT_LOCAL_FAIL 4 /* connect() that failed before sending a SYN: not a flow */
#define NV_STAT_UDP_SILENT 5 /* UDP socket connect()ed, released before any datagram: no flow */
#define NV_STAT_UDP_ABSORBED 6 /* unconnected UDP counters folded into a connected flow */
#define NV_STAT_MAX 7

#endif /* NETVIZ_EVENTS_H */
