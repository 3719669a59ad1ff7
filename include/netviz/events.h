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
#define NV_AF_UNIX 1
#define NV_AF_INET 2
#define NV_AF_INET6 10
#define NV_AF_PACKET 17

/* ---- Snapshot: records written by the BPF iterators (bpf/snapshot_iter.bpf.c) ---- */

/* ---- Live tracing: ring buffer events (bpf/trace.bpf.c) ---- */

#endif /* NETVIZ_EVENTS_H */
