#include "model/filter.h"

#include <algorithm>

#include "util/error.h"

namespace netviz {

namespace {
template <typename T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
const std::vector<std::string> kProtos = {"tcp",  "tcp6",  "udp",    "udp6", "raw",   "raw6",
                                          "sctp", "sctp6", "packet", "unix", "inet", "inet6"};
}  // namespace

void check_proto_name(const std::string& name) {
  if (!contains(kProtos, name))
    throw Error("--proto: unknown protocol \"" + name +
                "\" (tcp, tcp6, udp, udp6, raw, raw6, sctp, sctp6, packet, unix, inet, inet6)");
}

std::optional<std::set<std::string>> socket_states(const std::vector<std::string>& names) {
  // ss shows a closed datagram socket as UNCONN and `ss state close` lists it, so close
  // covers it here too; BOUND_INACTIVE is a closed TCP socket that holds a bound port.
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kStates = {
      {"established", {"ESTABLISHED"}},
      {"syn-sent", {"SYN_SENT"}},
      {"syn-recv", {"SYN_RECV"}},
      {"fin-wait-1", {"FIN_WAIT1"}},
      {"fin-wait-2", {"FIN_WAIT2"}},
      {"time-wait", {"TIME_WAIT"}},
      {"close", {"CLOSE", "UNCONN", "BOUND_INACTIVE"}},
      {"close-wait", {"CLOSE_WAIT"}},
      {"last-ack", {"LAST_ACK"}},
      {"listen", {"LISTEN"}},
      {"closing", {"CLOSING"}},
  };
  std::set<std::string> out;
  bool all = false;
  for (const auto& n : names) {
    if (n == "all") {
      all = true;
      continue;
    }
    auto it = std::find_if(kStates.begin(), kStates.end(), [&](const auto& k) { return k.first == n; });
    if (it == kStates.end()) {
      std::string known;
      for (const auto& k : kStates) known += k.first + ", ";
      throw Error("--state: unknown state \"" + n + "\" (" + known + "all)");
    }
    out.insert(it->second.begin(), it->second.end());
  }
  if (all) return std::nullopt;
  return out;
}

bool Filter::matches_proto(const std::string& proto, const std::string& family) const {
  if (protos.empty()) return true;
  for (const auto& p : protos) {
    if (p == "inet" && family == "ipv4" && (proto == "tcp" || proto == "udp")) return true;
    if (p == "inet6" && family == "ipv6" && (proto == "tcp" || proto == "udp")) return true;
    if (p == proto && family != "ipv6") return true;  // "tcp" means IPv4 TCP, as ss -4 would
    if (p == proto + "6" && family == "ipv6") return true;
    if ((p == "packet" || p == "unix") && p == proto) return true;
  }
  return false;
}

bool Filter::matches(const Socket& s) const {
  if (!matches_proto(s.proto, s.family)) return false;
  if (netns && s.netns != *netns) return false;
  if (listening && s.state != "LISTEN" && !(s.proto != "tcp" && !s.remote && s.local.port))
    return false;
  if (!ports.empty() && !contains(ports, s.local.port) &&
      !(s.remote && contains(ports, s.remote->port)))
    return false;
  if (!pids.empty() &&
      std::none_of(s.owners.begin(), s.owners.end(), [&](const Owner& o) { return contains(pids, o.pid); }))
    return false;
  if (!comms.empty() && std::none_of(s.owners.begin(), s.owners.end(),
                                     [&](const Owner& o) { return contains(comms, o.comm); }))
    return false;
  return true;
}

bool Filter::matches(const Flow& f) const {
  if (!matches_proto(f.proto, f.family)) return false;
  if (netns && f.netns != *netns) return false;
  if (!ports.empty() && !contains(ports, f.local.port) &&
      !(f.remote && contains(ports, f.remote->port)))
    return false;
  // A unix flow names both processes: either may be the one asked for.
  if (!pids.empty() && !contains(pids, f.pid) && !(f.peer && contains(pids, f.peer->pid)))
    return false;
  if (!comms.empty() && !contains(comms, f.comm)) return false;
  return true;
}

}  // namespace netviz
