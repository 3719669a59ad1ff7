#include "stitch/graph.h"

#include "format/kind_names.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>

namespace netviz {

std::string endpoint_text(const std::string& addr, uint32_t port) {
  if (addr.find(':') != std::string::npos) return "[" + addr + "]:" + std::to_string(port);
  return addr + ":" + std::to_string(port);
}

namespace graph_build {

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
  uint64_t refs = 0;  // connections (and listen marks) in it
};

// Counts of a node's pids or services: a connection taken away takes its count away.
template <class M, class K>
void bump(M& m, K k, int sign) {
  if (sign > 0) {
    ++m[k];
    return;
  }
  auto it = m.find(k);
  if (it != m.end() && --it->second == 0) m.erase(it);
}

constexpr uint8_t kListenEdge = 255;

// Aggregates connections into nodes and edges. `sign` -1 takes a connection added before
// away again (GraphTally); an edge's first and last cannot be taken back, so a removal that
// held one of them makes the builder stale().
class Builder {
 public:
  Builder(FlowStore& s, const GraphOptions& o) : s_(s), o_(o) {}

  void add(const Connection& c, int sign = 1) {
    const uint64_t d = static_cast<uint64_t>(static_cast<int64_t>(sign));
    bool failed = c.joined == Joined::failed;
    if (failed && !o_.failed) {
      failed_hidden_ += d;
      return;
    }
    bool ext = c.client.kind == ConnSide::Kind::external ||
               c.server.kind == ConnSide::Kind::external;
    if (ext && !o_.external) {
      hidden_ += d;
      return;
    }
    if (c.server.kind != ConnSide::Kind::external && !failed)
      bump(served_, serve_key(c.server.host, c.proto, c.server.port), sign);
    uint8_t j = static_cast<uint8_t>(c.joined);
    if (o_.view == StitchView::endpoint) {
      uint32_t cep = endpoint_node(c.client, c.proto, sign);
      uint32_t sep = endpoint_node(c.server, c.proto, sign);
      if (c.client.kind != ConnSide::Kind::external)
        edge(side_node(c.client, sign), cep, c.proto, c.port, j, c, 1, sign);
      edge(cep, sep, c.proto, c.port, j, c, 1, sign);
      if (c.server.kind != ConnSide::Kind::external)
        edge(sep, side_node(c.server, sign), c.proto, c.port, j, c, 1, sign);
      return;
    }
    edge(side_node(c.client, sign), side_node(c.server, sign), c.proto, c.port, j, c, 1, sign);
  }

  bool stale() const { return stale_; }
  // Nodes no connection holds any more stay indexed: worth starting again when most are.
  bool worth_compacting() const { return keys_.size() > 1024 && keys_.size() > 4 * live_nodes_; }

  void add_idle_listeners() {
    std::set<std::tuple<uint32_t, Proto, Sym, uint16_t, int32_t>> seen;
    for (const auto& l : s_.listeners) {
      if (served_.count(serve_key(l.host, l.proto, l.port))) continue;
      if (!seen.insert({l.host, l.proto, l.addr, l.port, l.pid}).second) continue;
      ConnSide side{l.comm == kNoSym ? ConnSide::Kind::unknown : ConnSide::Kind::process,
                    l.host, l.pid, l.comm, l.addr, l.port};
      uint32_t n = side_node(side, 1);
      extra_[n] = true;
      std::string what = std::string(to_text(l.proto)) + " " + endpoint_text(s_.strings.str(l.addr), l.port);
      if (o_.view == StitchView::endpoint) {
        uint32_t ep = endpoint_node(side, l.proto, 1);
        extra_[ep] = true;
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
      uint32_t n = side_node(side, 1);
      extra_[n] = true;
      auto& marks = ingress_[n];
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
      for (uint32_t h = 0; h < s_.hosts.size(); ++h) extra_[node({NType::host, h})] = true;
    std::vector<std::string> ids(keys_.size());
    live_nodes_ = 0;
    for (uint32_t i = 0; i < keys_.size(); ++i) live_nodes_ += refs_[i] > 0 || extra_[i];
    g.nodes.reserve(live_nodes_);
    for (uint32_t i = 0; i < keys_.size(); ++i) {
      if (!refs_[i] && !extra_[i]) continue;
      GraphNode n = make_node(keys_[i]);
      if (!services_[i].empty()) {
        std::vector<std::string> names;
        for (const auto& [s, count] : services_[i]) names.push_back(s_.strings.str(s));
        std::sort(names.begin(), names.end());
        for (const auto& name : names) n.service += (n.service.empty() ? "" : ", ") + name;
      }
      n.pids.reserve(pids_[i].size());
      for (const auto& [pid, count] : pids_[i]) n.pids.push_back(pid);
      if (auto it = listens_.find(i); it != listens_.end()) {
        n.listens = it->second;
        std::sort(n.listens.begin(), n.listens.end());
      }
      if (auto it = ingress_.find(i); it != ingress_.end()) {
        n.ingress = it->second;
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
      refs_.push_back(0);
      extra_.push_back(false);
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

  void note_service(uint32_t n, Sym service, int sign) {
    if (service == kNoSym) return;
    bump(services_[n], service, sign);
  }

  uint32_t held(uint32_t n, int sign) {
    refs_[n] += static_cast<uint64_t>(static_cast<int64_t>(sign));
    return n;
  }

  uint32_t side_node(const ConnSide& s, int sign) {
    if (s.kind == ConnSide::Kind::external)
      return held(node({NType::external, 0, kNoSym, 0, s.addr}), sign);
    if (s.kind == ConnSide::Kind::unknown && o_.view != StitchView::host)
      return held(node({NType::unknown, s.host}), sign);
    switch (o_.view) {
      case StitchView::host: return held(node({NType::host, s.host}), sign);
      case StitchView::pid: {
        uint32_t n = node({NType::pid, s.host, s.comm, s.pid});
        bump(pids_[n], s.pid, sign);
        note_service(n, s.service, sign);
        return held(n, sign);
      }
      case StitchView::service: {
        // A process without a service stands for itself by comm (pid 1 in the key marks it).
        Sym service = s.service != kNoSym || !s.pid ? s.service : service_of(s.host, s.pid);
        uint32_t n = service != kNoSym ? node({NType::service, s.host, service})
                                       : node({NType::service, s.host, s.comm, 1});
        bump(pids_[n], s.pid, sign);
        return held(n, sign);
      }
      default: {
        uint32_t n = node({NType::process, s.host, s.comm});
        bump(pids_[n], s.pid, sign);
        note_service(n, s.service, sign);
        return held(n, sign);
      }
    }
  }

  uint32_t endpoint_node(const ConnSide& s, Proto proto, int sign) {
    if (s.kind == ConnSide::Kind::external)
      return held(node({NType::ext_endpoint, 0, kNoSym, 0, s.addr, proto, s.port}), sign);
    return held(node({NType::endpoint, s.host, kNoSym, 0, s.addr, proto, s.port}), sign);
  }

  void edge(uint32_t from, uint32_t to, Proto proto, uint16_t port, uint8_t joined,
            const Connection& c, uint64_t flows = 1, int sign = 1) {
    EdgeKey k{from, to, proto, port, joined, c.nat_addr, c.nat_port, c.path};
    if (sign > 0) {
      EdgeAgg& a = edges_[k];
      ++a.refs;
      a.flows += flows;
      a.open += flows && c.open;
      a.bytes += c.bytes;
      if (c.first && (!a.first || c.first < a.first)) a.first = c.first;
      if (c.last > a.last) a.last = c.last;
      return;
    }
    auto it = edges_.find(k);
    if (it == edges_.end()) {
      stale_ = true;
      return;
    }
    EdgeAgg& a = it->second;
    if (--a.refs == 0) {
      edges_.erase(it);
      return;
    }
    a.flows -= flows;
    a.open -= flows && c.open;
    a.bytes -= c.bytes;
    if ((c.first && c.first == a.first) || (c.last && c.last == a.last)) stale_ = true;
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
  std::vector<std::map<int32_t, uint32_t>> pids_;
  std::vector<std::map<Sym, uint32_t>> services_;  // process and pid nodes: services seen
  std::vector<uint64_t> refs_;  // connections holding each node
  std::vector<bool> extra_;     // in the picture without connections: hosts, listeners, ingress
  size_t live_nodes_ = 0;
  bool stale_ = false;
  std::unordered_map<uint32_t, std::vector<std::string>> listens_;
  std::unordered_map<uint32_t, std::vector<std::string>> ingress_;
  std::optional<std::unordered_map<uint64_t, Sym>> pid_service_;  // (host, pid) -> service
  std::unordered_map<EdgeKey, EdgeAgg, EdgeKeyHash> edges_;
  std::unordered_map<uint64_t, uint32_t> served_;
  uint64_t hidden_ = 0;
  uint64_t failed_hidden_ = 0;
};

}  // namespace graph_build

using graph_build::Builder;

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

GraphTally::GraphTally(FlowStore& store, const GraphOptions& o)
    : store_(store), o_(o), b_(std::make_unique<Builder>(store, o_)) {}

GraphTally::~GraphTally() = default;

bool GraphTally::handles(const FlowStore& store, const GraphOptions& o) {
  return o.view != StitchView::service && store.ingress.empty() &&
         !(o.listeners && !store.listeners.empty());
}

void GraphTally::change(const Connection& c, int sign) { b_->add(c, sign); }

bool GraphTally::stale() const { return b_->stale() || b_->worth_compacting(); }

Graph GraphTally::graph(const JoinStats& st) {
  store_.finish_labels();
  Graph g = b_->finish(st);
  g.lost_events = store_.lost_events;
  g.lost_by_host = store_.lost_by_host;
  g.notes = store_.notes;
  return g;
}

std::string edge_head(const GraphEdge& e, const char* sep) {
  if (!e.path.empty()) return e.proto + sep + e.path;
  return e.proto + sep + std::to_string(e.port);
}

}  // namespace netviz
