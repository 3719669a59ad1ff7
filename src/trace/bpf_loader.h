#pragma once
// Owns the tracing BPF object: open → set rodata filters → probe and pick the flavour → load →
// attach every hook as a bpf_link (never pinned: all of it goes when the process does).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "netviz/events.h"
#include "trace/trace_features.h"

struct bpf_program;
struct bpf_link;

namespace netviz {

struct KernelFilters {
  uint32_t netns = 0;  // 0: any
  uint32_t pid = 0;
  // --port: the local or remote port is one of these; empty: any. The kernel takes up to
  // kMaxKernelPorts (bpf/maps.bpf.h NV_MAX_PORTS); set_ports leaves a longer list, or one
  // with a port no socket has (0, above 65535), to the user-space filter alone.
  static constexpr size_t kMaxKernelPorts = 16;
  std::vector<uint16_t> ports;
  void set_ports(const std::vector<uint32_t>& wanted);
  // As the kernel applies it: true when ports were given and neither port is one of them.
  bool port_filtered(uint16_t lport, uint16_t rport) const;
  // --proto: hooks of a protocol nobody asked for are not loaded at all.
  bool tcp = true;
  bool udp = true;
  bool unix_stream = true;  // unix stream and seqpacket connections (needs the accept hooks)
  // A capture: no connect or accept events, the close carries the owner record; the records
  // of connections still open are read at the end (open_tcp_records).
  bool quiet_opens = false;
};

// Programs that serve one protocol only, by name (bpf/*.bpf.c): --proto leaves the other
// protocol's out. tests/nv_floor mirrors the same sets with its empty programs.
const std::vector<std::string>& tcp_only_programs();
const std::vector<std::string>& udp_only_programs();  // post_bind stays: TCP binds too

// "" when this kernel takes a cgroup/connect_unix program (6.7 and later), else why not.
std::string probe_unix_connect();

// libbpf finds tracepoint ids in tracefs; when the host has none mounted, mounts one in a
// private mount namespace of this process, so nothing is left on the host. Notes what it did.
void ensure_tracefs(std::vector<std::string>& notes);

// "" when a tp_btf program on sock:inet_sock_set_state loads here, else why not: the
// tracer's flavour is chosen with it before loading.
std::string probe_tp_btf();

// Attaches one loaded program where its section says: cgroup programs to cgroup_fd (the
// cgroup2 root), the others to their tracepoint. nullptr and errno on failure.
::bpf_link* attach_program(::bpf_program* p, int cgroup_fd);

struct HookInfo {
  std::string program;  // BPF program name
  std::string kind;     // tp_btf, tracepoint, raw_tp, cgroup
  std::string target;   // what it hooks
};

class TraceLoader {
 public:
  // Throws netviz::Error with one line naming what failed.
  TraceLoader(const TraceFeatures& features, const KernelFilters& filters);
  ~TraceLoader();
  TraceLoader(const TraceLoader&) = delete;
  TraceLoader& operator=(const TraceLoader&) = delete;

  const std::vector<HookInfo>& hooks() const { return hooks_; }
  const std::vector<std::string>& notes() const { return notes_; }
  std::string summary() const;  // "14 hooks: tracepoints, cgroup"

  // Hands every waiting record to fn; waits up to timeout_ms for the first one.
  // Returns the number handled, or a negative errno (-EINTR on a signal).
  int poll(int timeout_ms, const std::function<void(const nv_event&)>& fn);
  // Bytes waiting in the ring buffer when the last poll woke, the most seen so far, and its
  // size: how close the kernel came to dropping records. All 0 when it cannot be read.
  struct RingUse {
    uint64_t size = 0, used = 0, peak = 0;
  };
  RingUse ring_use() const;
  // Ring buffer reservations that failed in the kernel, summed over CPUs.
  uint64_t kernel_drops() const;
  // Hook runs the kernel skipped (a program already running on that CPU), except those of
  // state_btf, which state_btf_nested takes over.
  uint64_t missed_runs() const;
  // TCP state changes handled by state_btf_nested.
  uint64_t nested_runs() const;
  // A kernel counter (NV_STAT_*), summed over CPUs.
  uint64_t kernel_stat(uint32_t which) const;
  // Every unconnected UDP flow counted so far.
  std::vector<std::pair<nv_udp_key, nv_udp_val>> udp_counts() const;
  // Every connected UDP socket traced since connect() and not yet released.
  std::vector<std::pair<uint64_t, nv_udp_conn>> udp_conn_counts() const;  // by cookie
  // TCP owner records of established connections not closed yet, by struct sock address.
  std::vector<std::pair<uint64_t, nv_sock_info>> open_tcp_records() const;
  // Unix connections accepted and not yet forgotten, by the client socket's cookie.
  std::vector<std::pair<uint64_t, nv_unix_conn>> unix_records() const;
  // Bytes written by each end of a unix connection, by the client socket's cookie (a key of
  // unix_records()); nullopt: the kernel's map no longer holds them.
  std::optional<nv_unix_pending> unix_counts(uint64_t cookie) const;
  // The connection has ended (its client socket is held by nobody): drop its records.
  void forget_unix(uint64_t cookie) const;
  bool traces_unix() const { return traces_unix_; }
  bool counts_unix_bytes() const { return counts_unix_bytes_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<HookInfo> hooks_;
  std::vector<std::string> notes_;
  bool traces_unix_ = false;
  bool counts_unix_bytes_ = false;
};

}  // namespace netviz
