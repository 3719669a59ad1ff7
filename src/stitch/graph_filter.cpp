#include "stitch/graph_filter.h"

#include <unordered_map>

#include "util/error.h"

namespace netviz {

void add_filter(GraphFilter& f, const std::string& name, const std::string& values) {
  if (name != "host" && name != "comm" && name != "port" && name != "proto")
    throw Error("filter \"" + name + "\": expected host, comm, port or proto");
  size_t start = 0;
  for (;;) {
    size_t comma = values.find(',', start);
    std::string v = values.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!v.empty()) {
      if (name == "host") f.hosts.insert(v);
      if (name == "comm") f.comms.insert(v);
      if (name == "proto") {
        if (v != "tcp" && v != "udp")
          throw Error("filter proto: expected tcp or udp, got \"" + v + "\"");
        f.protos.insert(v);
      }
      if (name == "port") {
        char* end = nullptr;
        unsigned long p = v.size() <= 5 ? strtoul(v.c_str(), &end, 10) : 0;
        if (!end || *end || p == 0 || p > 65535)
          throw Error("filter port: expected 1-65535, got \"" + v + "\"");
        f.ports.insert(static_cast<uint32_t>(p));
      }
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

Graph filter_graph(const Graph& g, const GraphFilter& f) {
  if (f.empty()) return g;
  std::unordered_map<std::string, const GraphNode*> by_id;
  for (const auto& n : g.nodes) by_id[n.id] = &n;
  auto host_ok = [&](const GraphNode& n) {  // peers outside the group have no host
    return f.hosts.empty() || n.host.empty() || f.hosts.count(n.host);
  };
  auto on_host = [&](const GraphNode& n) { return f.hosts.empty() || f.hosts.count(n.host); };
  auto comm_ok = [&](const GraphNode& n) { return f.comms.empty() || f.comms.count(n.comm); };
  bool edge_filters = !f.ports.empty() || !f.protos.empty();

  Graph out;
  out.stats = g.stats;
  out.external_hidden = g.external_hidden;
  out.failed_hidden = g.failed_hidden;
  out.lost_events = g.lost_events;
  out.lost_by_host = g.lost_by_host;
  out.notes = g.notes;
  std::set<std::string> keep;
  for (const auto& e : g.edges) {
    auto a = by_id.find(e.from), b = by_id.find(e.to);
    if (a == by_id.end() || b == by_id.end()) continue;
    const GraphNode &from = *a->second, &to = *b->second;
    if (!f.ports.empty() && !f.ports.count(e.port)) continue;
    if (!f.protos.empty() && !f.protos.count(e.proto)) continue;
    if (!host_ok(from) || !host_ok(to) || !(on_host(from) || on_host(to))) continue;
    if (!comm_ok(from) && !comm_ok(to)) continue;
    out.edges.push_back(e);
    keep.insert(e.from);
    keep.insert(e.to);
  }
  for (const auto& n : g.nodes)
    if (keep.count(n.id) || (!edge_filters && on_host(n) && comm_ok(n) && !n.host.empty()))
      out.nodes.push_back(n);
  std::set<std::string> hosts;
  for (const auto& n : out.nodes)
    if (!n.host.empty()) hosts.insert(n.host);
  out.hosts.assign(hosts.begin(), hosts.end());
  return out;
}

}  // namespace netviz
