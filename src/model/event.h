#pragma once
// A decoded ring buffer record (include/netviz/events.h struct nv_event) in model terms.
#include <cstdint>
#include <optional>
#include <string>

#include "model/capture.h"

struct nv_event;

namespace netviz {

enum class EventKind { connect, accept, close, bind, listen, udp, exec, exit, fork };

struct TraceEvent {
  EventKind kind = EventKind::connect;
  WallNs time = 0;
  uint64_t sk = 0;  // kernel socket identity (TCP: struct sock; UDP: cookie); 0 when none
  // Socket events.
  std::string proto;   // tcp, udp
  std::string family;  // ipv4, ipv6
  Endpoint local;
  Endpoint remote;
  uint64_t netns = 0;
  std::string attribution;  // connect, accept, listener, udp_send, udp_recv, bind; "" none
  std::optional<WallNs> start;
  std::optional<int64_t> connect_latency_ns;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t packets = 0;    // connected UDP close: datagrams counted in the kernel
  std::string prev_state;  // TCP state before a close, kernel name without "TCP_"
  bool failed = false;     // a connect that never reached ESTABLISHED
  bool before_accept = false;
  bool inbound = false;    // connected UDP whose peer spoke first
  // attribution "handoff": the owner before the process that closed it.
  int32_t prev_pid = 0;
  std::string prev_comm;
  std::string prev_attribution;
  // Process.
  int32_t pid = 0;
  int32_t ppid = 0;
  std::string comm;
  uint32_t exit_code = 0;
};

const char* event_name(EventKind k);
bool is_socket_event(EventKind k);

// Converts kernel CLOCK_MONOTONIC stamps to wall-clock time with an offset taken once.
class Decoder {
 public:
  Decoder();  // offset from the clocks now
  explicit Decoder(int64_t mono_to_wall_ns) : offset_(mono_to_wall_ns) {}
  // Throws netviz::Error for a record that is not a known event type.
  TraceEvent decode(const nv_event& raw) const;
  WallNs wall(uint64_t mono_ns) const { return static_cast<WallNs>(mono_ns) + offset_; }

 private:
  int64_t offset_;
};

// "127.0.0.1", "::1"; family is NV_AF_INET or NV_AF_INET6.
std::string addr_text(uint8_t family, const uint8_t* addr16);
std::string tcp_state_name(int state);
// An IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) as the IPv4 flow it is.
void unmap_v4(uint8_t& family, uint8_t* laddr16, uint8_t* raddr16);
// A kernel comm (up to max bytes, NUL-terminated or not) as valid UTF-8: bad bytes become '?'.
std::string comm_text(const char* comm, size_t max);

}  // namespace netviz
