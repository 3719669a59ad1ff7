/* Helpers every hook family shares: events out through the ring buffer, kernel counters, and
 * the copies of addresses and owners into events. */
#ifndef NETVIZ_HELPERS_BPF_H
#define NETVIZ_HELPERS_BPF_H

static __always_inline void count_stat(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&stats, &which);
	if (c)
		(*c)++;
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
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
 * records, counted per CPU: asking the buffer how much is waiting (bpf_ringbuf_query) reads
 * a cache line user space writes after every record, and a wakeup per record is an
 * irq_work each (costs in docs/benchmarks.md). */
#define NV_WAKEUP_EVERY 1024

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

/* An IPv6 address field of a struct bpf_sock (__u32 field[4], a context) into 16 bytes.
 * The verifier takes only context loads at a constant offset from the context pointer
 * itself; plain C let clang compute &sk->field once and load from there (refused, depending
 * on how registers fall), so each word is loaded by one instruction written here. */
#define CTX_U32(sk, field, i)                                                         \
	({                                                                            \
		__u32 v_;                                                             \
		asm volatile("%0 = *(u32 *)(%1 + %2)"                                 \
			     : "=r"(v_)                                               \
			     : "r"(sk), "i"(__builtin_offsetof(struct bpf_sock, field) + \
					    4 * (i)));                                \
		v_;                                                                   \
	})

#define COPY_IP6(dst, sk, field)                   \
	do {                                       \
		__u32 a_[4];                       \
		a_[0] = CTX_U32(sk, field, 0);     \
		a_[1] = CTX_U32(sk, field, 1);     \
		a_[2] = CTX_U32(sk, field, 2);     \
		a_[3] = CTX_U32(sk, field, 3);     \
		__builtin_memcpy((dst), a_, 16);   \
	} while (0)

/* One datagram on a UDP flow's counters (struct nv_udp_val or nv_udp_conn, which name them
 * alike). Atomic: the skb hooks of one socket run on several CPUs at once. */
#define COUNT_DATAGRAM(v, egress, payload)                                  \
	do {                                                                \
		if (egress) {                                               \
			__sync_fetch_and_add(&(v)->sent, 1);                \
			__sync_fetch_and_add(&(v)->bytes_sent, (payload));  \
		} else {                                                    \
			__sync_fetch_and_add(&(v)->received, 1);            \
			__sync_fetch_and_add(&(v)->bytes_received, (payload)); \
		}                                                           \
	} while (0)

/* The second half of libbpf-tools' bpf_map_lookup_or_try_init, for a caller that already
 * looked and found nothing: stores init unless another CPU stored the key first. Returns 1
 * when init was stored (the caller owns the new entry and its first event), else 0 with *val
 * the entry that won, or NULL. */
static __always_inline int try_init(void *map, const void *key, const void *init, void **val)
{
	*val = NULL;
	if (bpf_map_update_elem(map, key, init, BPF_NOEXIST) == 0)
		return 1;
	*val = bpf_map_lookup_elem(map, key);
	return 0;
}

#endif
