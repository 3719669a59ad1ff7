// SPDX-License-Identifier: GPL-2.0
/* The cost floor of netviz-trace's hooks (scripts/bench-trace, tests/tools/nv_floor): one
 * program at every hook point the tracer attaches, each returning at once. A storm under
 * them pays for the kernel calling the hooks and nothing else; no program body can make the
 * tracer cheaper than this. Names match the tracer's (bpf/tcp_state.bpf.c and its siblings) so the same hook sets can be
 * chosen. Bench-only: built for tests/tools/nv_floor, not part of netviz. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_btf, struct sock *sk, int old, int new) { return 0; }

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(state_btf_nested, struct sock *sk, int old, int new) { return 0; }

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(void *ctx) { return 0; }

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(void *ctx) { return 0; }

SEC("tracepoint/syscalls/sys_enter_listen")
int enter_listen(void *ctx) { return 0; }

SEC("tracepoint/syscalls/sys_exit_listen")
int exit_listen(void *ctx) { return 0; }

/* cgroup programs return 1: allow. */
SEC("cgroup/post_bind4")
int post_bind4(struct bpf_sock *ctx) { return 1; }

SEC("cgroup/post_bind6")
int post_bind6(struct bpf_sock *ctx) { return 1; }

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/sock_release")
int sock_release(struct bpf_sock *ctx) { return 1; }

SEC("cgroup_skb/egress")
int udp_egress(struct __sk_buff *skb) { return 1; }

SEC("cgroup_skb/ingress")
int udp_ingress(struct __sk_buff *skb) { return 1; }

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/recvmsg4")
int recvmsg4(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/recvmsg6")
int recvmsg6(struct bpf_sock_addr *ctx) { return 1; }

/* Not netviz-trace's (--hooks msg only): per-message tracepoints (Linux 6.3+) that could
 * count UDP in place of the per-packet cgroup_skb programs. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(msg_send, struct sock *sk, int ret, int flags) { return 0; }

SEC("tp_btf/sock_recv_length")
int BPF_PROG(msg_recv, struct sock *sk, int ret, int flags) { return 0; }

SEC("tracepoint/sched/sched_process_exec")
int proc_exec(void *ctx) { return 0; }

SEC("tracepoint/sched/sched_process_exit")
int proc_exit(void *ctx) { return 0; }

SEC("raw_tp/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child) { return 0; }
