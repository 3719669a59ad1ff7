#pragma once
// Filters of the live page (and its URL): hosts, commands, ports, protocols. A graph keeps
// the edges that match and the nodes they join, plus matching nodes without edges.
#include <cstdint>
#include <set>
#include <string>

#include "stitch/graph.h"

namespace netviz {

struct GraphFilter {
  std::set<std::string> hosts;   // host labels: both ends on these hosts or outside the group
  std::set<std::string> comms;   // at least one end runs one of these commands
  std::set<uint32_t> ports;      // server ports
  std::set<std::string> protos;  // tcp, udp...
  bool empty() const { return hosts.empty() && comms.empty() && ports.empty() && protos.empty(); }
};

// Adds a comma-separated list to the filter named `name` (host, comm, port, proto). Throws
// netviz::Error naming the filter on an unknown name or a bad port.
void add_filter(GraphFilter& f, const std::string& name, const std::string& values);

Graph filter_graph(const Graph& g, const GraphFilter& f);

}  // namespace netviz
