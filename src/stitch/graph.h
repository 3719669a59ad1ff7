#pragma once
// The stitched graph in one of the views, with string ids, sorted: what the DOT, JSON and
// follow sinks print.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "stitch/join.h"
#include "stitch/stitch_options.h"

namespace netviz {

struct GraphNode {
  std::string id;
  std::string type;   // process, pid, service, unknown, external, host, endpoint
  std::string host;   // host label; "" for peers outside the group
  std::string comm;   // "" when not a process; a service node without a service: its comm
  std::vector<int32_t> pids;
  std::string addr;   // endpoint and external nodes
  uint32_t port = 0;  // endpoint nodes
  std::vector<std::string> listens;  // --listeners: idle listening sockets, "tcp 0.0.0.0:80"
  std::vector<std::string> ingress;  // raw and packet sockets of its processes, "raw icmp"
  // process and pid nodes: their flows' services, ", "-joined; service nodes: the service
  // ("" when the node stands for a comm whose processes have none)
  std::string service;
  bool operator==(const GraphNode&) const = default;
};

struct GraphEdge {
  std::string from, to;
  std::string proto;
  uint32_t port = 0;       // server port
  std::string path;        // unix: the server's path or @name (port is 0)
  std::string joined;      // both, one-side, listener, external, failed, listen
  std::string nat;         // NATed: the address the client used ("10.77.0.100:6379"), else ""
  uint64_t flows = 0;
  uint64_t open = 0;       // flows not seen closing
  uint64_t bytes = 0;
  WallNs first = 0, last = 0;
};

struct Graph {
  std::vector<std::string> hosts;  // labels, sorted
  std::vector<GraphNode> nodes;    // sorted by id
  std::vector<GraphEdge> edges;    // sorted by (from, to, proto, port, path, joined, nat)
  JoinStats stats;
  uint64_t external_hidden = 0;    // connections to peers outside the group left out
  uint64_t failed_hidden = 0;      // failed connects left out (no --failed)
  uint64_t lost_events = 0;        // reported by the captures
  std::map<std::string, uint64_t> lost_by_host;  // the same, by capture host name
  std::vector<std::string> notes;
};

struct GraphOptions {
  StitchView view = StitchView::process;
  bool external = false;
  bool listeners = false;
  bool failed = false;  // show connects that never reached ESTABLISHED
  JoinOptions join;
};

// Joins and builds the view. Calls store.finish_labels().
Graph build_graph(FlowStore& store, const GraphOptions& o);

// The same from a join the caller runs (follow mode keeps connections and re-joins only
// what changed): `join` hands every connection of the store to its sink, returns the counts.
using ConnectionSink = std::function<void(const Connection&)>;
Graph build_graph(FlowStore& store, const GraphOptions& o,
                  const std::function<JoinStats(const ConnectionSink&)>& join);

namespace graph_build {
class Builder;
}

// Follow mode's graph kept between ticks: connections are added and taken away as the join
// changes (LiveJoin::update), so a tick costs what changed, not what the store holds.
class GraphTally {
 public:
  GraphTally(FlowStore& store, const GraphOptions& o);
  ~GraphTally();
  // What it cannot follow change by change (the service view, idle listeners and ingress
  // sockets, which depend on every flow): build_graph each time instead.
  static bool handles(const FlowStore& store, const GraphOptions& o);
  void change(const Connection& c, int sign);  // +1 came, -1 went
  // An edge's first or last went with a connection, or most nodes are gone: start again.
  bool stale() const;
  Graph graph(const JoinStats& st);  // the same as build_graph over the same connections

 private:
  FlowStore& store_;
  GraphOptions o_;
  std::unique_ptr<graph_build::Builder> b_;
};

// "10.0.0.1:80", "[::1]:80"
std::string endpoint_text(const std::string& addr, uint32_t port);

// What an edge carries, as labels say it: "tcp 8080", "unix /run/x.sock"; sep between.
std::string edge_head(const GraphEdge& e, const char* sep = " ");

}  // namespace netviz
