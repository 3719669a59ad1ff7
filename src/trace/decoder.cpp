#include <arpa/inet.h>
#include <cstring>
#include <ctime>

#include "netviz/events.h"
#include "scan/proc_net_parser.h"
#include "model/event.h"
#include "util/error.h"

namespace netviz {

static_assert(sizeof(nv_event) == 152, "nv_event layout changed: update both sides");

const char* event_name(EventKind k) {
  switch (k) {
    case EventKind::connect: return "connect";
    case EventKind::accept: return "accept";
    case EventKind::close: return "close";
    case EventKind::bind: return "bind";
    case EventKind::listen: return "listen";
    case EventKind::udp: return "udp";
    case EventKind::exec: return "exec";
    case EventKind::exit: return "exit";
    case EventKind::fork: return "fork";
  }
  return "?";
}

bool is_socket_event(EventKind k) {
  return k != EventKind::exec && k != EventKind::exit && k != EventKind::fork;
}

static int64_t clock_offset() {
  timespec real{}, mono{};
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_MONOTONIC, &mono);
  return (static_cast<int64_t>(real.tv_sec) - mono.tv_sec) * 1'000'000'000 +
         (real.tv_nsec - mono.tv_nsec);
}

Decoder::Decoder() : offset_(clock_offset()) {}

std::string addr_text(uint8_t family, const uint8_t* a) {
  if (family == NV_AF_INET) return inet_addr_text(AF_INET, a);
  if (family == NV_AF_INET6) return inet_addr_text(AF_INET6, a);
  return {};
}

void unmap_v4(uint8_t& family, uint8_t* laddr, uint8_t* raddr) {
  static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t any[16] = {};
  if (family != NV_AF_INET6) return;
  bool l_mapped = !memcmp(laddr, prefix, 12), r_mapped = !memcmp(raddr, prefix, 12);
  // A mapped peer with an unspecified local address (or the reverse) is still IPv4.
  if (!(l_mapped || !memcmp(laddr, any, 16)) || !(r_mapped || !memcmp(raddr, any, 16)) ||
      !(l_mapped || r_mapped))
    return;
  family = NV_AF_INET;
  memmove(laddr, laddr + 12, 4);
  memset(laddr + 4, 0, 12);
  memmove(raddr, raddr + 12, 4);
  memset(raddr + 4, 0, 12);
}

std::string tcp_state_name(int s) {
  static const char* names[] = {"",          "ESTABLISHED", "SYN_SENT",   "SYN_RECV",
                                "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT",  "CLOSE",
                                "CLOSE_WAIT", "LAST_ACK",   "LISTEN",     "CLOSING",
                                "NEW_SYN_RECV"};
  if (s > 0 && s < static_cast<int>(sizeof names / sizeof *names)) return names[s];
  return "";
}

static const char* attribution_name(uint8_t a) {
  switch (a) {
    case NV_ATTR_CONNECT: return "connect";
    case NV_ATTR_ACCEPT: return "accept";
    case NV_ATTR_LISTENER: return "listener";
    case NV_ATTR_UDP_SEND: return "udp_send";
    case NV_ATTR_UDP_RECV: return "udp_recv";
    case NV_ATTR_BIND: return "bind";
    case NV_ATTR_HANDOFF: return "handoff";
    default: return "";
  }
}

// Length of the valid UTF-8 sequence starting at s[i], 0 when it is not one.
static size_t utf8_len(const unsigned char* s, size_t i, size_t n) {
  unsigned char c = s[i];
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
  if (!len || i + len > n) return 0;
  for (size_t k = 1; k < len; ++k)
    if ((s[i + k] & 0xc0) != 0x80) return 0;
  return len;
}

std::string comm_text(const char* c, size_t max) {
  size_t n = 0;
  while (n < max && c[n]) ++n;
  bool ascii = true;
  for (size_t i = 0; i < n; ++i) ascii &= static_cast<unsigned char>(c[i]) < 0x80;
  if (ascii) return std::string(c, n);
  // comm is whatever bytes a process chose; JSON output needs valid UTF-8.
  std::string out;
  out.reserve(n);
  const auto* u = reinterpret_cast<const unsigned char*>(c);
  for (size_t i = 0; i < n;) {
    size_t len = utf8_len(u, i, n);
    if (len) {
      out.append(c + i, len);
      i += len;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

static std::string comm_text(const char* c) { return comm_text(c, NV_COMM_LEN); }

TraceEvent Decoder::decode(const nv_event& r) const {
  TraceEvent e;
  switch (r.type) {
    case NV_EV_CONNECT: e.kind = EventKind::connect; break;
    case NV_EV_ACCEPT: e.kind = EventKind::accept; break;
    case NV_EV_CLOSE: e.kind = EventKind::close; break;
    case NV_EV_BIND: e.kind = EventKind::bind; break;
    case NV_EV_LISTEN: e.kind = EventKind::listen; break;
    case NV_EV_UDP: e.kind = EventKind::udp; break;
    case NV_EV_EXEC: e.kind = EventKind::exec; break;
    case NV_EV_EXIT: e.kind = EventKind::exit; break;
    case NV_EV_FORK: e.kind = EventKind::fork; break;
    default: throw Error("ring buffer: unknown event type " + std::to_string(r.type));
  }
  e.time = wall(r.ts_ns);
  e.sk = r.sk;
  e.netns = r.netns;
  e.pid = static_cast<int32_t>(r.pid);
  e.ppid = static_cast<int32_t>(r.ppid);
  e.comm = comm_text(r.comm);
  if (!is_socket_event(e.kind)) {
    e.exit_code = r.exit_code;
    return e;
  }
  if (r.family != NV_AF_INET && r.family != NV_AF_INET6)
    throw Error("ring buffer: " + std::string(event_name(e.kind)) + ": unknown family " +
                std::to_string(r.family));
  e.proto = r.proto == NV_PROTO_TCP ? "tcp" : r.proto == NV_PROTO_UDP ? "udp" : "";
  if (e.proto.empty())
    throw Error("ring buffer: unknown protocol " + std::to_string(r.proto));
  uint8_t family = r.family;
  uint8_t laddr[NV_ADDR_LEN], raddr[NV_ADDR_LEN];
  memcpy(laddr, r.laddr, sizeof laddr);
  memcpy(raddr, r.raddr, sizeof raddr);
  unmap_v4(family, laddr, raddr);
  e.family = family == NV_AF_INET ? "ipv4" : "ipv6";
  e.local = {addr_text(family, laddr), r.lport};
  e.remote = {addr_text(family, raddr), r.rport};
  e.attribution = attribution_name(r.attribution);
  if (r.start_ns) e.start = wall(r.start_ns);
  // A capture's close carries the latency its (unsent) connect event would have.
  if (r.latency_ns && (e.kind == EventKind::connect || e.kind == EventKind::close) &&
      e.proto == "tcp")
    e.connect_latency_ns = static_cast<int64_t>(r.latency_ns);
  e.bytes_sent = r.bytes_sent;
  e.bytes_received = r.bytes_received;
  e.packets = r.packets;
  e.prev_state = tcp_state_name(r.state);
  e.failed = r.flags & NV_FLAG_FAILED;
  e.before_accept = r.flags & NV_FLAG_NO_ACCEPT;
  e.inbound = r.flags & NV_FLAG_INBOUND;
  if (r.attribution == NV_ATTR_HANDOFF) {
    e.prev_pid = static_cast<int32_t>(r.prev_pid);
    e.prev_comm = comm_text(r.prev_comm);
    e.prev_attribution = attribution_name(r.prev_attribution);
  }
  return e;
}

}  // namespace netviz
