#pragma once
// Kernel records (include/netviz/events.h) into model types: ring buffer events, and the
// counters and owner records the tracer reads from its maps at the end.
#include <cstdint>
#include <string>
#include <utility>

#include "model/event.h"
#include "trace/live_table.h"

struct nv_event;
struct nv_sock_info;
struct nv_udp_conn;
struct nv_udp_key;
struct nv_udp_val;
struct nv_unix_conn;

namespace netviz {

// Kernel counters of one connected UDP socket still open at the end.
struct UdpConnCount {
  FlowKey key;  // sock (cookie), proto and tuple set
  WallNs last_seen = 0;
  uint64_t packets = 0;  // datagrams both ways
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

// Who holds a socket (pid, comm), as the task_file iterator reads it.
using SocketHolder = std::pair<int32_t, std::string>;

// Turns kernel records into model types; converts kernel CLOCK_MONOTONIC stamps to
// wall-clock time with an offset taken once.
class Decoder {
 public:
  Decoder();  // offset from the clocks now
  explicit Decoder(int64_t mono_to_wall_ns) : offset_(mono_to_wall_ns) {}
  // Throws netviz::Error for a record that is not a known event type.
  TraceEvent decode(const nv_event& raw) const;
  // The counters the kernel keeps for an unconnected UDP flow (the udp map).
  UdpCount udp_count(const nv_udp_key& k, const nv_udp_val& v) const;
  // The counters of a connected UDP socket still open (the udp_conn map), by cookie.
  UdpConnCount udp_conn_count(uint64_t cookie, const nv_udp_conn& u) const;
  // The connect or accept event an owner record of an open TCP connection stands for, at
  // now_mono_ns; with holder set, handed off to it (attribution handoff, the recorded owner
  // as the one before). Throws netviz::Error like decode.
  TraceEvent open_connection(uint64_t sk, const nv_sock_info& si, uint64_t now_mono_ns,
                             const SocketHolder* holder) const;
  // A unix connection's record (the unix_conns map) as its connect or close event at
  // now_mono_ns; kind is EventKind::connect or EventKind::close.
  TraceEvent unix_connection(uint64_t cookie, const nv_unix_conn& c, EventKind kind,
                             uint64_t now_mono_ns) const;
  // The process serving a unix connection as the kernel last saw it write on the server
  // end; nullopt until the server has written.
  std::optional<Owner> unix_server(const nv_unix_pending& p) const;
  WallNs wall(uint64_t mono_ns) const { return static_cast<WallNs>(mono_ns) + offset_; }

 private:
  int64_t offset_;
};

// "127.0.0.1", "::1"; family is NV_AF_INET or NV_AF_INET6.
std::string addr_text(uint8_t family, const uint8_t* addr16);
// A kernel TCP state number as the model has it; none for 0 and anything unknown.
SockState tcp_state_of(int state);
// An IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) as the IPv4 flow it is.
void unmap_v4(uint8_t& family, uint8_t* laddr16, uint8_t* raddr16);
// A kernel comm (up to max bytes, NUL-terminated or not) as valid UTF-8: bad bytes become '?'.
std::string comm_text(const char* comm, size_t max);

}  // namespace netviz
