#include "format/kind_names.h"

#include <iterator>

namespace netviz {
namespace {

constexpr const char* kProto[] = {"", "tcp", "udp", "raw", "packet", "unix", "sctp"};
constexpr const char* kFamily[] = {"", "ipv4", "ipv6", "unix", "packet"};
constexpr const char* kDirection[] = {"", "inbound", "outbound"};
constexpr const char* kAttribution[] = {"",         "connect", "accept",   "handoff",
                                        "listener", "scan",    "udp_send", "udp_recv",
                                        "bind",     "unknown"};
constexpr const char* kState[] = {"",          "UNKNOWN",      "ESTABLISHED", "SYN_SENT",
                                  "SYN_RECV",  "FIN_WAIT1",    "FIN_WAIT2",   "TIME_WAIT",
                                  "CLOSE",     "CLOSE_WAIT",   "LAST_ACK",    "LISTEN",
                                  "CLOSING",   "NEW_SYN_RECV", "BOUND_INACTIVE", "UNCONN",
                                  "CLOSED",    "FAILED"};

static_assert(std::size(kProto) == static_cast<size_t>(Proto::sctp) + 1);
static_assert(std::size(kFamily) == static_cast<size_t>(Family::packet) + 1);
static_assert(std::size(kDirection) == static_cast<size_t>(Direction::outbound) + 1);
static_assert(std::size(kAttribution) == static_cast<size_t>(Attribution::unknown) + 1);
static_assert(std::size(kState) == static_cast<size_t>(SockState::failed) + 1);

template <typename E, size_t N>
const char* name_of(const char* const (&names)[N], E e) {
  auto i = static_cast<size_t>(e);
  return i < N ? names[i] : "";
}

template <typename E, size_t N>
std::optional<E> parse_of(const char* const (&names)[N], std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (s == names[i]) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

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

const char* to_text(Proto p) { return name_of(kProto, p); }
const char* to_text(Family f) { return name_of(kFamily, f); }
const char* to_text(Direction d) { return name_of(kDirection, d); }
const char* to_text(Attribution a) { return name_of(kAttribution, a); }
const char* to_text(SockState s) { return name_of(kState, s); }

std::optional<Proto> parse_proto(std::string_view s) { return parse_of<Proto>(kProto, s); }
std::optional<Family> parse_family(std::string_view s) { return parse_of<Family>(kFamily, s); }
std::optional<Direction> parse_direction(std::string_view s) {
  return parse_of<Direction>(kDirection, s);
}
std::optional<Attribution> parse_attribution(std::string_view s) {
  return parse_of<Attribution>(kAttribution, s);
}
std::optional<SockState> parse_state(std::string_view s) { return parse_of<SockState>(kState, s); }

}  // namespace netviz
