/* The --netns, --pid and --port filters as the kernel applies them (settings in maps.bpf.h).
 * Every one is applied again in user space; here they only spare work. The verifier knows the
 * read-only settings, so a filter nobody asked for is removed from the program at load. */
#ifndef NETVIZ_FILTERS_BPF_H
#define NETVIZ_FILTERS_BPF_H

/* port is one of --port's: unrolled compares, no map lookup (this runs on every packet).
 * Without --port the verifier removes it with the rest of the filter. */
static __always_inline int port_wanted(__u16 port)
{
#pragma unroll
	for (__u32 i = 0; i < NV_MAX_PORTS; i++) {
		if (i >= targ_nports)
			break;
		if (targ_ports[i] == port)
			return 1;
	}
	return 0;
}

/* Nonzero when --port was given and neither port is one of it. */
static __always_inline int port_filtered(__u16 lport, __u16 rport)
{
	return targ_nports && !port_wanted(lport) && !port_wanted(rport);
}

/* The same inside connect() (SYN_SENT), where the local port may not be chosen yet (0): that
 * leaves only the remote port to decide, and a flow still unknown passes. */
static __always_inline int port_filtered_connecting(__u16 lport, __u16 rport)
{
	return targ_nports && !port_wanted(rport) && lport && !port_wanted(lport);
}

static __always_inline int netns_filtered(__u32 netns)
{
	return targ_netns && netns != targ_netns;
}

static __always_inline int pid_filtered(__u32 pid)
{
	return targ_pid && pid != targ_pid;
}

#endif
