#pragma once
// Changes between two versions of a graph, as the JSON lines of --follow.
#include <cstdint>
#include <vector>

#include "format/capture_json.h"
#include "stitch/graph.h"

namespace netviz {

// Each item: {"change": "node_added"|"node_updated"|"node_removed"|"edge_added"|
// "edge_updated"|"edge_closed"|"edge_removed", "node"|"edge": {...}}, nodes before edges,
// in id order, removed nodes last. "edge_closed": the edge's last open flow closed.
std::vector<ojson> diff_graphs(const Graph& before, const Graph& after);

}  // namespace netviz
