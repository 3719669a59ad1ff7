#include "scan/scan_flows.h"

#include <unordered_set>

namespace netviz {

namespace {

bool is_wildcard(const std::string& a) { return a == "0.0.0.0" || a == "::" || a.empty(); }

bool connected_tcp_state(const std::string& st) {
  return st == "ESTABLISHED" || st == "SYN_SENT" || st == "FIN_WAIT1" || st == "FIN_WAIT2" ||
         st == "CLOSE_WAIT" || st == "LAST_ACK" || st == "CLOSING";
}

struct ListenKey {
  std::string proto;
  uint64_t netns;
  uint32_t port;
  std::string addr;  // unmapped; "" for a wildcard
  bool operator==(const ListenKey&) const = default;
};
struct ListenHash {
  size_t operator()(const ListenKey& k) const {
    return std::hash<std::string>()(k.addr) ^ (k.netns * 1000003) ^ (k.port * 31) ^ k.proto.size();
  }
};

}  // namespace

std::string unmap_v4(const std::string& addr) {
  if (addr.size() > 7 && addr.compare(0, 7, "::ffff:") == 0 &&
      addr.find('.', 7) != std::string::npos)
    return addr.substr(7);
  return addr;
}

std::vector<Flow> flows_from_sockets(const std::vector<Socket>& sockets, WallNs now) {
  std::unordered_set<ListenKey, ListenHash> listening;
  for (const auto& s : sockets) {
    bool tcp_listen = s.proto == "tcp" && s.state == "LISTEN";
    bool udp_bound = s.proto == "udp" && !s.remote && s.local.port != 0;
    if (!tcp_listen && !udp_bound) continue;
    std::string a = unmap_v4(s.local.addr);
    listening.insert({s.proto, s.netns, s.local.port, is_wildcard(a) ? "" : a});
  }
  std::vector<Flow> flows;
  flows.reserve(sockets.size());
  for (const auto& s : sockets) {
    if (!s.remote || (s.proto != "tcp" && s.proto != "udp")) continue;
    if (s.proto == "tcp" && !connected_tcp_state(s.state)) continue;
    Flow f;
    f.proto = s.proto;
    f.family = s.family;
    f.local = s.local;
    f.remote = s.remote;
    if (s.family == "ipv6") {
      std::string l = unmap_v4(s.local.addr), r = unmap_v4(s.remote->addr);
      if (l != s.local.addr && r != s.remote->addr) {
        f.family = "ipv4";
        f.local.addr = std::move(l);
        f.remote->addr = std::move(r);
      }
    }
    std::string la = unmap_v4(s.local.addr);
    bool inbound = listening.count({s.proto, s.netns, s.local.port, ""}) ||
                   listening.count({s.proto, s.netns, s.local.port, la});
    f.direction = inbound ? "inbound" : "outbound";
    if (!s.owners.empty()) {
      f.pid = s.owners.front().pid;
      f.comm = s.owners.front().comm;
    }
    f.netns = s.netns;
    f.first_seen = f.last_seen = now;
    f.attribution = "scan";
    if (s.proto == "tcp") f.state = s.state;
    flows.push_back(std::move(f));
  }
  return flows;
}

}  // namespace netviz
