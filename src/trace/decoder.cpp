#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <ctime>

#include "format/kind_names.h"
#include "netviz/events.h"
#include "scan/proc_net_parser.h"
#include "scan/sock_diag.h"
#include "trace/decoder.h"
#include "util/error.h"

namespace netviz {

static_assert(sizeof(nv_event) == 152, "nv_event layout changed: update both sides");
static_assert(sizeof(nv_unix_conn) == 184, "nv_unix_conn layout changed: update both sides");

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

SockState tcp_state_of(int s) {
  return s > 0 && s <= 12 ? tcp_state_from_kernel(static_cast<unsigned>(s)) : SockState::none;
}

static Attribution attribution_of(uint8_t a) {
  switch (a) {
    case NV_ATTR_CONNECT: return Attribution::connect;
    case NV_ATTR_ACCEPT: return Attribution::accept;
    case NV_ATTR_LISTENER: return Attribution::listener;
    case NV_ATTR_UDP_SEND: return Attribution::udp_send;
    case NV_ATTR_UDP_RECV: return Attribution::udp_recv;
    case NV_ATTR_BIND: return Attribution::bind;
    case NV_ATTR_HANDOFF: return Attribution::handoff;
    default: return Attribution::none;
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
  e.proto = r.proto == NV_PROTO_TCP   ? Proto::tcp
            : r.proto == NV_PROTO_UDP ? Proto::udp
                                      : Proto::none;
  if (e.proto == Proto::none)
    throw Error("ring buffer: unknown protocol " + std::to_string(r.proto));
  uint8_t family = r.family;
  uint8_t laddr[NV_ADDR_LEN], raddr[NV_ADDR_LEN];
  memcpy(laddr, r.laddr, sizeof laddr);
  memcpy(raddr, r.raddr, sizeof raddr);
  unmap_v4(family, laddr, raddr);
  e.family = family == NV_AF_INET ? Family::ipv4 : Family::ipv6;
  e.local = {addr_text(family, laddr), r.lport};
  e.remote = {addr_text(family, raddr), r.rport};
  e.attribution = attribution_of(r.attribution);
  if (r.start_ns) e.start = wall(r.start_ns);
  // A capture's close carries the latency its (unsent) connect event would have.
  if (r.latency_ns && (e.kind == EventKind::connect || e.kind == EventKind::close) &&
      e.proto == Proto::tcp)
    e.connect_latency_ns = static_cast<int64_t>(r.latency_ns);
  e.bytes_sent = r.bytes_sent;
  e.bytes_received = r.bytes_received;
  e.packets = r.packets;
  e.prev_state = tcp_state_of(r.state);
  e.failed = r.flags & NV_FLAG_FAILED;
  e.before_accept = r.flags & NV_FLAG_NO_ACCEPT;
  e.inbound = r.flags & NV_FLAG_INBOUND;
  if (r.attribution == NV_ATTR_HANDOFF) {
    e.prev_pid = static_cast<int32_t>(r.prev_pid);
    e.prev_comm = comm_text(r.prev_comm);
    e.prev_attribution = attribution_of(r.prev_attribution);
  }
  return e;
}

UdpCount Decoder::udp_count(const nv_udp_key& k, const nv_udp_val& v) const {
  UdpCount c;
  c.key.sock = k.cookie;
  c.key.proto = Proto::udp;
  c.pid = static_cast<int32_t>(v.pid);
  c.netns = v.netns;
  c.key.local = {addr_text(k.family, k.laddr), k.lport};
  c.key.remote = {addr_text(k.family, k.raddr), k.rport};
  c.family = k.family == NV_AF_INET6 ? Family::ipv6 : Family::ipv4;
  c.comm = comm_text(v.comm, NV_COMM_LEN);
  c.attribution = v.attribution == NV_ATTR_UDP_RECV ? Attribution::udp_recv : Attribution::udp_send;
  c.first_seen = wall(v.first_ns);
  c.last_seen = wall(v.last_ns);
  c.sent = v.sent;
  c.received = v.received;
  c.bytes_sent = v.bytes_sent;
  c.bytes_received = v.bytes_received;
  return c;
}

UdpConnCount Decoder::udp_conn_count(uint64_t cookie, const nv_udp_conn& u) const {
  UdpConnCount c;
  c.key.sock = cookie;
  c.key.proto = Proto::udp;
  c.key.local = {addr_text(u.family, u.laddr), u.lport};
  c.key.remote = {addr_text(u.family, u.raddr), u.rport};
  c.last_seen = wall(u.last_ns);
  c.packets = u.sent + u.received;
  c.bytes_sent = u.bytes_sent;
  c.bytes_received = u.bytes_received;
  return c;
}

// Built as the ring buffer record the connect or accept would have been, so it is decoded
// by the same code.
TraceEvent Decoder::open_connection(uint64_t sk, const nv_sock_info& si, uint64_t now_mono_ns,
                                    const SocketHolder* holder) const {
  const nv_tuple& t = si.t;
  nv_event r{};
  r.type = si.attribution == NV_ATTR_CONNECT ? NV_EV_CONNECT : NV_EV_ACCEPT;
  r.ts_ns = now_mono_ns;
  r.sk = sk;
  r.start_ns = si.start_ns;
  r.latency_ns = si.latency_ns;
  r.pid = si.pid;
  r.netns = t.netns;
  r.lport = t.lport;
  r.rport = t.rport;
  r.family = t.family;
  r.proto = t.proto;
  r.attribution = si.attribution;
  memcpy(r.laddr, t.laddr, sizeof r.laddr);
  memcpy(r.raddr, t.raddr, sizeof r.raddr);
  memcpy(r.comm, si.comm, sizeof r.comm);
  if (holder) {
    r.attribution = NV_ATTR_HANDOFF;
    r.prev_pid = si.pid;
    r.prev_attribution = si.attribution == NV_ATTR_HANDOFF ? si.prev_attribution : si.attribution;
    memcpy(r.prev_comm, si.comm, sizeof r.prev_comm);
    r.pid = static_cast<uint32_t>(holder->first);
    memset(r.comm, 0, sizeof r.comm);
    memcpy(r.comm, holder->second.data(), std::min(sizeof r.comm, holder->second.size()));
  }
  return decode(r);
}

// One flow per connection, as the snapshot makes of a connected pair: the client's end
// (outbound, its own name as local), the listener's name as remote, the server as peer.
TraceEvent Decoder::unix_connection(uint64_t cookie, const nv_unix_conn& c, EventKind kind,
                                    uint64_t now_mono_ns) const {
  TraceEvent e;
  e.kind = kind;
  e.time = wall(now_mono_ns);
  e.sk = cookie;
  e.proto = Proto::unix;
  e.family = Family::unix;
  e.remote = {unix_name_text(c.path, std::min<size_t>(c.path_len, sizeof c.path)), 0};
  e.netns = c.netns;
  e.attribution = Attribution::connect;
  e.start = wall(c.start_ns);
  e.pid = static_cast<int32_t>(c.pid);
  e.comm = comm_text(c.comm);
  e.peer = Owner{static_cast<int32_t>(c.peer_pid), comm_text(c.peer_comm), -1};
  return e;
}

std::optional<Owner> Decoder::unix_server(const nv_unix_pending& p) const {
  if (!p.server_pid) return std::nullopt;
  return Owner{static_cast<int32_t>(p.server_pid), comm_text(p.server_comm), -1};
}

}  // namespace netviz
