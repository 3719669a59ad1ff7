#include "stitch/graph_diff.h"

#include <map>
#include <tuple>

#include "stitch/graph_sinks.h"

namespace netviz {

namespace {
using EdgeId = std::tuple<std::string, std::string, std::string, uint32_t, std::string,
                          std::string, std::string>;
EdgeId edge_id(const GraphEdge& e) {
  return {e.from, e.to, e.proto, e.port, e.path, e.joined, e.nat};
}

ojson change(const char* what, const char* kind, ojson body) {
  return ojson{{"change", what}, {kind, std::move(body)}};
}
}  // namespace

std::vector<ojson> diff_graphs(const Graph& before, const Graph& after) {
  std::vector<ojson> out;
  std::map<std::string, const GraphNode*> old_nodes, new_nodes;
  for (const auto& n : before.nodes) old_nodes[n.id] = &n;
  for (const auto& n : after.nodes) new_nodes[n.id] = &n;
  for (const auto& [id, n] : new_nodes) {
    auto it = old_nodes.find(id);
    if (it == old_nodes.end())
      out.push_back(change("node_added", "node", node_json(*n)));
    else if (!(*it->second == *n))
      out.push_back(change("node_updated", "node", node_json(*n)));
  }

  std::map<EdgeId, const GraphEdge*> old_edges, new_edges;
  for (const auto& e : before.edges) old_edges[edge_id(e)] = &e;
  for (const auto& e : after.edges) new_edges[edge_id(e)] = &e;
  for (const auto& [id, e] : new_edges) {
    auto it = old_edges.find(id);
    if (it == old_edges.end()) {
      out.push_back(change("edge_added", "edge", edge_json(*e)));
      continue;
    }
    const GraphEdge& o = *it->second;
    if (o.open > 0 && e->open == 0 && e->flows > 0)
      out.push_back(change("edge_closed", "edge", edge_json(*e)));
    else if (o.flows != e->flows || o.bytes != e->bytes || o.open != e->open || o.last != e->last)
      out.push_back(change("edge_updated", "edge", edge_json(*e)));
  }
  for (const auto& [id, e] : old_edges)
    if (!new_edges.count(id)) out.push_back(change("edge_removed", "edge", edge_json(*e)));
  // Nodes go after the edges that used them.
  for (const auto& [id, n] : old_nodes)
    if (!new_nodes.count(id)) out.push_back(change("node_removed", "node", node_json(*n)));
  return out;
}

}  // namespace netviz
