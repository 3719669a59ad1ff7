#pragma once
// Writers for a stitched graph: Graphviz DOT (one cluster per host) and JSON.
#include <iosfwd>
#include <string>
#include <string_view>

#include "format/capture_json.h"
#include "stitch/graph.h"

namespace netviz {

// A DOT double-quoted string, quotes included: escapes quotes and backslashes, turns
// control characters and invalid UTF-8 into visible escapes so dot never chokes.
std::string dot_quote(std::string_view s);
void write_dot(std::ostream& out, const Graph& g, StitchView view);

ojson node_json(const GraphNode& n);
ojson edge_json(const GraphEdge& e);
void write_graph_json(std::ostream& out, const Graph& g);

// "12.3 kB"
std::string human_bytes(uint64_t b);
// A NATed edge (GraphEdge::nat set) in DOT and pictures: blue, bold.
inline constexpr const char* kNatEdgeStyle = ", color=blue3, fontcolor=blue3, penwidth=1.5";

}  // namespace netviz
