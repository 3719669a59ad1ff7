#include "stitch/graph.h"

#include "format/kind_names.h"

#include <algorithm>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace netviz {

std::string endpoint_text(const std::string& addr, uint32_t port) {
  if (addr.find(':') != std::string::npos) return "[" + addr + "]:" + std::to_string(port);
  return addr + ":" + std::to_string(port);
}

namespace {

enum class NType : uint8_t { process, pid, unknown, external, host, endpoint, ext_endpoint, service };

struct NodeKey {
  NType type;
  uint32_t host = 0;
  Sym comm = kNoSym;
  int32_t pid = 0;
  Sym addr = kNoSym;
  Proto proto = Proto::none;
  uint16_t port = 0;
  bool operator==(const NodeKey&) const = default;
};

struct NodeKeyHash {
  size_t operator()(const NodeKey& k) const {
    uint64_t h = uint64_t(k.type) * 0x9e3779b97f4a7c15ull;
    for (uint64_t v : {uint64_t(k.host), uint64_t(k.comm), uint64_t(uint32_t(k.pid)),
                       uint64_t(k.addr), uint64_t(k.proto), uint64_t(k.port)})
      h = (h ^ v) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 31);
  }
};

struct EdgeKey {
  uint32_t from, to;
  Proto proto;
  uint16_t port;
  uint8_t joined;
  Sym nat_addr;  // kNoSym unless NATed
  uint16_t nat_port;
  Sym path;  // unix: edges to different paths stay apart
  bool operator==(const EdgeKey&) const = default;
};

struct EdgeKeyHash {
  size_t operator()(const EdgeKey& k) const {
    uint64_t h = (uint64_t(k.from) << 32 | k.to) * 0x9e3779b97f4a7c15ull;
    h ^= (uint64_t(k.proto) << 24 | uint64_t(k.port) << 8 | k.joined) * 0xff51afd7ed558ccdull;
    h ^= (uint64_t(k.nat_addr) << 16 | k.nat_port) * 0xc4ceb9fe1a85ec53ull;
    h ^= uint64_t(k.path) * 0x94d049bb133111ebull;
    return h ^ (h >> 29);
  }
};

struct EdgeAgg {
  uint64_t flows = 0, open = 0, bytes = 0;
  WallNs first = 0, last = 0;
};

constexpr uint8_t kListenEdge = 255;

class Builder {
 public:
  Builder(FlowStore& s, const GraphOptions& o) : s_(s), o_(o) {}

  void add(const Connection& c) {
    bool failed = c.joined == Joined::failed;
    if (failed && !o_.failed) {
      ++failed_hidden_;
      return;
    }
    bool ext = c.client.kind == ConnSide::Kind::external ||
               c.server.kind == ConnSide::Kind::external;
    if (ext && !o_.external) {
      ++hidden_;
      return;
    }
    if (c.server.kind != ConnSide::Kind::external && !failed)
      served_.insert(serve_key(c.server.host, c.proto, c.server.port));
    uint8_t j = static_cast<uint8_t>(c.joined);
    if (o_.view == StitchView::endpoint) {
      uint32_t cep = endpoint_node(c.client, c.proto);
      uint32_t sep = endpoint_node(c.server, c.proto);
      if (c.client.kind != ConnSide::Kind::external)
        edge(side_node(c.client), cep, c.proto, c.port, j, c);
      edge(cep, sep, c.proto, c.port, j, c);
      if (c.server.kind != ConnSide::Kind::external)
        edge(sep, side_node(c.server), c.proto, c.port, j, c);
      return;
    }
    edge(side_node(c.client), side_node(c.server), c.proto, c.port, j, c);
  }

  void add_idle_listeners() {
    std::set<std::tuple<uint32_t, Proto, Sym, uint16_t, int32_t>> seen;
    for (const auto& l : s_.listeners) {
      if (served_.count(serve_key(l.host, l.proto, l.port))) continue;
      if (!seen.insert({l.host, l.proto, l.addr, l.port, l.pid}).second) continue;
      ConnSide side{l.comm == kNoSym ? ConnSide::Kind::unknown : ConnSide::Kind::process,
                    l.host, l.pid, l.comm, l.addr, l.port};
      uint32_t n = side_node(side);
      std::string what = std::string(to_text(l.proto)) + " " + endpoint_text(s_.strings.str(l.addr), l.port);
      if (o_.view == StitchView::endpoint) {
        uint32_t ep = endpoint_node(side, l.proto);
        listens_[ep].push_back(what);
        Connection none;
        none.open = false;
        edge(n, ep, l.proto, l.port, kListenEdge, none, 0);
      } else {
        listens_[n].push_back(what);
      }
    }
  }

  // Raw and packet sockets mark their owner's node in every view, with or without flows.
  void add_ingress() {
    for (const auto& i : s_.ingress) {
      ConnSide side{ConnSide::Kind::process, i.host, i.pid, i.comm, kNoSym, 0,
                    service_of(i.host, i.pid)};
      auto& marks = ingress_[side_node(side)];
      std::string what = s_.strings.str(i.what);
      if (std::find(marks.begin(), marks.end(), what) == marks.end()) marks.push_back(what);
    }
  }

  Graph finish(const JoinStats& st) {
    Graph g;
    g.stats = st;
    g.external_hidden = hidden_;
    g.failed_hidden = failed_hidden_;
    for (const auto& h : s_.hosts) g.hosts.push_back(h.label);
    std::sort(g.hosts.begin(), g.hosts.end());
    g.hosts.erase(std::unique(g.hosts.begin(), g.hosts.end()), g.hosts.end());
    if (o_.view == StitchView::host)  // every host of the group is in the picture
      for (uint32_t h = 0; h < s_.hosts.size(); ++h) node({NType::host, h});
    std::vector<std::string> ids(keys_.size());
    g.nodes.reserve(keys_.size());
    for (uint32_t i = 0; i < keys_.size(); ++i) {
      GraphNode n = make_node(keys_[i]);
      if (!services_[i].empty()) {
        std::vector<std::string> names;
        for (Sym s : services_[i]) names.push_back(s_.strings.str(s));
        std::sort(names.begin(), names.end());
        for (const auto& name : names) n.service += (n.service.empty() ? "" : ", ") + name;
      }
      auto& p = pids_[i];
      std::sort(p.begin(), p.end());
      p.erase(std::unique(p.begin(), p.end()), p.end());
      n.pids = std::move(p);
      if (auto it = listens_.find(i); it != listens_.end()) {
        n.listens = std::move(it->second);
        std::sort(n.listens.begin(), n.listens.end());
      }
      if (auto it = ingress_.find(i); it != ingress_.end()) {
        n.ingress = std::move(it->second);
        std::sort(n.ingress.begin(), n.ingress.end());
      }
      ids[i] = n.id;
      g.nodes.push_back(std::move(n));
    }
    std::sort(g.nodes.begin(), g.nodes.end(),
              [](const GraphNode& a, const GraphNode& b) { return a.id < b.id; });
    g.edges.reserve(edges_.size());
    for (const auto& [k, a] : edges_) {
      GraphEdge e;
      e.from = ids[k.from];
      e.to = ids[k.to];
      e.proto = to_text(k.proto);
      e.port = k.port;
      if (k.path != kNoSym) e.path = s_.strings.str(k.path);
      e.joined = k.joined == kListenEdge ? "listen" : joined_name(static_cast<Joined>(k.joined));
      if (k.nat_addr != kNoSym) e.nat = endpoint_text(s_.strings.str(k.nat_addr), k.nat_port);
      e.flows = a.flows;
      e.open = a.open;
      e.bytes = a.bytes;
      e.first = a.first;
      e.last = a.last;
      g.edges.push_back(std::move(e));
    }
    std::sort(g.edges.begin(), g.edges.end(), [](const GraphEdge& a, const GraphEdge& b) {
      return std::tie(a.from, a.to, a.proto, a.port, a.path, a.joined, a.nat) <
             std::tie(b.from, b.to, b.proto, b.port, b.path, b.joined, b.nat);
    });
    return g;
  }

 private:
  static uint64_t serve_key(uint32_t host, Proto proto, uint16_t port) {
    return (uint64_t(host) << 40) ^ (uint64_t(proto) << 16) ^ port;
  }

  uint32_t node(const NodeKey& k) {
    auto [it, fresh] = index_.try_emplace(k, static_cast<uint32_t>(keys_.size()));
    if (fresh) {
      keys_.push_back(k);
      pids_.emplace_back();
      services_.emplace_back();
    }
    return it->second;
  }

  // A service the process's flows named; for ends that carry none themselves (listeners,
  // ingress sockets). The map is made on first use.
  Sym service_of(uint32_t host, int32_t pid) {
    if (!pid_service_) {
      pid_service_.emplace();
      for (const auto& e : s_.ends)
        if (e.service != kNoSym) pid_service_->emplace(uint64_t(e.host) << 32 | uint32_t(e.pid), e.service);
    }
    auto it = pid_service_->find(uint64_t(host) << 32 | uint32_t(pid));
    return it == pid_service_->end() ? kNoSym : it->second;
  }

  void note_service(uint32_t n, Sym service) {
    if (service == kNoSym) return;
    auto& v = services_[n];
    if (std::find(v.begin(), v.end(), service) == v.end()) v.push_back(service);
  }

  uint32_t side_node(const ConnSide& s) {
    if (s.kind == ConnSide::Kind::external) return node({NType::external, 0, kNoSym, 0, s.addr});
    if (s.kind == ConnSide::Kind::unknown && o_.view != StitchView::host)
      return node({NType::unknown, s.host});
    switch (o_.view) {
      case StitchView::host: return node({NType::host, s.host});
      case StitchView::pid: {
        uint32_t n = node({NType::pid, s.host, s.comm, s.pid});
        if (pids_[n].empty()) pids_[n].push_back(s.pid);
        note_service(n, s.service);
        return n;
      }
      case StitchView::service: {
        // A process without a service stands for itself by comm (pid 1 in the key marks it).
        Sym service = s.service != kNoSym || !s.pid ? s.service : service_of(s.host, s.pid);
        uint32_t n = service != kNoSym ? node({NType::service, s.host, service})
                                       : node({NType::service, s.host, s.comm, 1});
        auto& p = pids_[n];
        if (p.empty() || p.back() != s.pid) p.push_back(s.pid);
        return n;
      }
      default: {
        uint32_t n = node({NType::process, s.host, s.comm});
        auto& p = pids_[n];
        if (p.empty() || p.back() != s.pid) p.push_back(s.pid);
        note_service(n, s.service);
        return n;
      }
    }
  }

  uint32_t endpoint_node(const ConnSide& s, Proto proto) {
    if (s.kind == ConnSide::Kind::external)
      return node({NType::ext_endpoint, 0, kNoSym, 0, s.addr, proto, s.port});
    return node({NType::endpoint, s.host, kNoSym, 0, s.addr, proto, s.port});
  }

  void edge(uint32_t from, uint32_t to, Proto proto, uint16_t port, uint8_t joined,
            const Connection& c, uint64_t flows = 1) {
    EdgeAgg& a = edges_[EdgeKey{from, to, proto, port, joined, c.nat_addr, c.nat_port, c.path}];
    a.flows += flows;
    a.open += flows && c.open;
    a.bytes += c.bytes;
    if (c.first && (!a.first || c.first < a.first)) a.first = c.first;
    if (c.last > a.last) a.last = c.last;
  }

  GraphNode make_node(const NodeKey& k) const {
    GraphNode n;
    auto str = [this](Sym s) { return s == kNoSym ? std::string() : s_.strings.str(s); };
    std::string host = k.type == NType::external || k.type == NType::ext_endpoint
                           ? std::string()
                           : s_.hosts[k.host].label;
    switch (k.type) {
      case NType::process:
        n.type = "process";
        n.comm = str(k.comm);
        n.id = "p:" + host + "|" + n.comm;
        break;
      case NType::pid:
        n.type = "pid";
        n.comm = str(k.comm);
        n.id = "p:" + host + "|" + n.comm + "|" + std::to_string(k.pid);
        break;
      case NType::service:
        n.type = "service";
        if (k.pid) {
          n.comm = str(k.comm);
          n.id = "s:" + host + "|(comm) " + n.comm;
        } else {
          n.service = str(k.comm);
          n.id = "s:" + host + "|" + n.service;
        }
        break;
      case NType::unknown:
        n.type = "unknown";
        n.id = "u:" + host;
        break;
      case NType::external:
        n.type = "external";
        n.addr = str(k.addr);
        n.id = "x:" + n.addr;
        break;
      case NType::host:
        n.type = "host";
        n.id = "h:" + host;
        break;
      case NType::endpoint:
        n.type = "endpoint";
        n.addr = str(k.addr);
        n.port = k.port;
        n.comm.clear();
        n.id = "e:" + host + "|" + to_text(k.proto) + "|" + endpoint_text(n.addr, k.port);
        break;
      case NType::ext_endpoint:
        n.type = "external";
        n.addr = str(k.addr);
        n.port = k.port;
        n.id = "x:" + std::string(to_text(k.proto)) + "|" + endpoint_text(n.addr, k.port);
        break;
    }
    n.host = host;
    return n;
  }

  FlowStore& s_;
  const GraphOptions& o_;
  std::unordered_map<NodeKey, uint32_t, NodeKeyHash> index_;
  std::vector<NodeKey> keys_;
  std::vector<std::vector<int32_t>> pids_;
  std::vector<std::vector<Sym>> services_;  // process and pid nodes: services seen
  std::unordered_map<uint32_t, std::vector<std::string>> listens_;
  std::unordered_map<uint32_t, std::vector<std::string>> ingress_;
  std::optional<std::unordered_map<uint64_t, Sym>> pid_service_;  // (host, pid) -> service
  std::unordered_map<EdgeKey, EdgeAgg, EdgeKeyHash> edges_;
  std::unordered_set<uint64_t> served_;
  uint64_t hidden_ = 0;
  uint64_t failed_hidden_ = 0;
};

}  // namespace

Graph build_graph(FlowStore& store, const GraphOptions& o) {
  return build_graph(store, o, [&store, &o](const ConnectionSink& sink) {
    return join_ends(store, o.join, sink);
  });
}

Graph build_graph(FlowStore& store, const GraphOptions& o,
                  const std::function<JoinStats(const ConnectionSink&)>& join) {
  store.finish_labels();
  Builder b(store, o);
  JoinStats st = join([&b](const Connection& c) { b.add(c); });
  if (o.listeners) b.add_idle_listeners();
  b.add_ingress();
  Graph g = b.finish(st);
  g.lost_events = store.lost_events;
  g.lost_by_host = store.lost_by_host;
  g.notes = store.notes;
  return g;
}

std::string edge_head(const GraphEdge& e, const char* sep) {
  if (!e.path.empty()) return e.proto + sep + e.path;
  return e.proto + sep + std::to_string(e.port);
}

}  // namespace netviz
