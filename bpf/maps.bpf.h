/* Every map and every load-time setting of the tracer (src/trace/bpf_loader.cpp), shared by
 * the hook families of bpf/tcp_state.bpf.c, tcp_syscalls.bpf.c, udp.bpf.c and process.bpf.c.
 * Each of them includes this file; `bpftool gen object` links them into one trace.bpf.o.
 * Definitions are __weak so that the linker keeps one of each identical copy: one map, one
 * rodata variable, one skeleton field, as when everything was one source file. */
#ifndef NETVIZ_MAPS_BPF_H
#define NETVIZ_MAPS_BPF_H

char LICENSE[] SEC("license") __weak = "GPL";

/* Filters, set before load; 0 means any. */
const volatile __u32 targ_netns __weak = 0;
const volatile __u32 targ_pid __weak = 0;
/* --port: the flow's local or remote port is one of targ_ports[0..targ_nports); 0 ports
 * means any. More ports than fit are left to user space (the loader sets none here then). */
#define NV_MAX_PORTS 16
const volatile __u32 targ_nports __weak = 0;
const volatile __u16 targ_ports[NV_MAX_PORTS] __weak = {};
/* One hand-over record per CPU for every context (see context_level): the portable way, and
 * how tests run it on machines where the stacks are known. */
const volatile __u8 one_context __weak = 0;
/* A capture (-o) needs no connect or accept events: the close carries the same record, and
 * user space reads the records still open at the end. Half the events of a connection. */
const volatile __u8 quiet_opens __weak = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	/* 30,000 events: over a second of a full-speed storm; user space drains it every
	 * 100 ms or sooner (submit_event). Its pages count in the tracer's RSS. */
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NV_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps") __weak;

/* Records each CPU submitted, for the wakeup policy of submit_event (helpers.bpf.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} submitted SEC(".maps") __weak;

/* ---- TCP ---- */

/* TCP owner records (struct nv_sock_info in events.h). A plain hash, not an LRU: a record
 * is often deleted on another CPU than the one that stored it, and the LRU then takes that
 * CPU's list lock (bpf_common_lru_push_free); the plain hash frees to the current CPU's
 * list (docs/benchmarks.md has the cost). It never evicts a live connection's record
 * either: a full map is counted (NV_STAT_MAP_FULL). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__type(key, __u64);
	__type(value, struct nv_sock_info);
} socks SEC(".maps") __weak;

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
} listeners SEC(".maps") __weak;

/* listen()'s fd by thread, from its entry to its exit. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);
	__type(value, __u64);
} listening_fd SEC(".maps") __weak;

/* The transition state_btf took, per CPU and per context (bpf/tcp_state.bpf.c). */
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
} state_done SEC(".maps") __weak;

/* ---- UDP ---- */

/* Connected UDP by socket cookie: sock_release may not read addresses, so the tuple is kept
 * from connect(); the skb hooks count its datagrams here. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct nv_udp_conn);
} udp_conns SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 131072);
	__type(key, struct nv_udp_key);
	__type(value, struct nv_udp_val);
} udp_flows SEC(".maps") __weak;

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
} udp_owners SEC(".maps") __weak;

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
} udp_connecting SEC(".maps") __weak;

/* ---- unix ---- */

/* A unix stream or seqpacket socket that called connect(), by cookie: the client's side of
 * the edge and both ends' byte counts. Kept after accept() pairs it (unix_conns), as long as
 * its connection: user space deletes both entries together. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct nv_unix_pending);
} unix_connecting SEC(".maps") __weak;

/* Accepted unix connections by the client socket's cookie: user space reads them every
 * second and deletes each once its client socket is no longer held (no release hook). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct nv_unix_conn);
} unix_conns SEC(".maps") __weak;

#endif
