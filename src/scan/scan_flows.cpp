#include "scan/scan_flows.h"

#include <unordered_map>
#include <unordered_set>

namespace netviz {

namespace {

bool is_wildcard(const std::string& a) { return a == "0.0.0.0" || a == "::" || a.empty(); }

bool connected_tcp_state(SockState st) {
  using S = SockState;
  return st == S::established || st == S::syn_sent || st == S::fin_wait1 || st == S::fin_wait2 ||
         st == S::close_wait || st == S::last_ack || st == S::closing;
}

struct ListenKey {
  Proto proto;
  uint64_t netns;
  uint32_t port;
  std::string addr;  // unmapped; "" for a wildcard
  bool operator==(const ListenKey&) const = default;
};
struct ListenHash {
  size_t operator()(const ListenKey& k) const {
    return std::hash<std::string>()(k.addr) ^ (k.netns * 1000003) ^ (k.port * 31) ^ static_cast<size_t>(k.proto);
  }
};

// The server end of a unix pair: the end named for a listening path (an accepted socket
// carries its listener's name), else the only named end; nullptr when that says nothing.
const Socket* unix_server(const Socket& a, const Socket& b,
                          const std::unordered_set<std::string>& listening) {
  bool al = listening.count(a.local.addr) > 0, bl = listening.count(b.local.addr) > 0;
  if (al != bl) return al ? &a : &b;
  bool an = !a.local.addr.empty(), bn = !b.local.addr.empty();
  if (an != bn) return an ? &a : &b;
  return nullptr;
}

void add_unix_flows(const std::vector<Socket>& sockets, WallNs now, std::vector<Flow>& flows) {
  std::unordered_set<std::string> listening;
  std::unordered_map<uint64_t, const Socket*> by_inode;
  for (const auto& s : sockets) {
    if (s.proto != Proto::unix) continue;
    if (s.state == SockState::listen && !s.local.addr.empty()) listening.insert(s.local.addr);
    if (s.inode && !s.owners.empty()) by_inode.emplace(s.inode, &s);
  }
  for (const auto& s : sockets) {
    if (s.proto != Proto::unix || !s.peer_inode || s.owners.empty()) continue;
    auto it = by_inode.find(s.peer_inode);
    if (it == by_inode.end()) continue;
    const Socket& p = *it->second;
    // A stream pair names each other: take it once. A datagram socket connected to a bound
    // one is named by it alone, and the bound one is the server.
    bool mutual = p.peer_inode == s.inode;
    if (mutual && s.inode > p.inode) continue;
    if (s.owners.front().pid == p.owners.front().pid) continue;  // both ends in one process
    const Socket* server = mutual ? unix_server(s, p, listening) : &p;
    if (!server) continue;
    const Socket& client = server == &s ? p : s;
    Flow f;
    f.proto = Proto::unix;
    f.family = Family::unix;
    f.local = Endpoint{client.local.addr, 0};
    f.remote = Endpoint{server->local.addr, 0};
    f.direction = Direction::outbound;
    f.pid = client.owners.front().pid;
    f.comm = client.owners.front().comm;
    f.peer = server->owners.front();
    f.netns = client.netns;
    f.first_seen = f.last_seen = now;
    f.attribution = Attribution::scan;
    flows.push_back(std::move(f));
  }
}

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
    bool tcp_listen = s.proto == Proto::tcp && s.state == SockState::listen;
    bool udp_bound = s.proto == Proto::udp && !s.remote && s.local.port != 0;
    if (!tcp_listen && !udp_bound) continue;
    std::string a = unmap_v4(s.local.addr);
    listening.insert({s.proto, s.netns, s.local.port, is_wildcard(a) ? "" : a});
  }
  std::vector<Flow> flows;
  flows.reserve(sockets.size());
  for (const auto& s : sockets) {
    if (!s.remote || (s.proto != Proto::tcp && s.proto != Proto::udp)) continue;
    if (s.proto == Proto::tcp && !connected_tcp_state(s.state)) continue;
    Flow f;
    f.proto = s.proto;
    f.family = s.family;
    f.local = s.local;
    f.remote = s.remote;
    if (s.family == Family::ipv6) {
      std::string l = unmap_v4(s.local.addr), r = unmap_v4(s.remote->addr);
      if (l != s.local.addr && r != s.remote->addr) {
        f.family = Family::ipv4;
        f.local.addr = std::move(l);
        f.remote->addr = std::move(r);
      }
    }
    std::string la = unmap_v4(s.local.addr);
    bool inbound = listening.count({s.proto, s.netns, s.local.port, ""}) ||
                   listening.count({s.proto, s.netns, s.local.port, la});
    f.direction = inbound ? Direction::inbound : Direction::outbound;
    if (!s.owners.empty()) {
      f.pid = s.owners.front().pid;
      f.comm = s.owners.front().comm;
    }
    f.netns = s.netns;
    f.first_seen = f.last_seen = now;
    f.attribution = Attribution::scan;
    if (s.proto == Proto::tcp) f.state = s.state;
    flows.push_back(std::move(f));
  }
  add_unix_flows(sockets, now, flows);
  return flows;
}

}  // namespace netviz
