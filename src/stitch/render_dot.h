#pragma once
// The DOT a picture is laid out from: the graph of write_dot with short one-line edge
// labels, tooltips carrying the details, ids the live page can click on, and a legend for
// the edge styles the graph uses.
#include <iosfwd>

#include "stitch/graph.h"

namespace netviz {

void write_picture_dot(std::ostream& out, const Graph& g, StitchView view);

// "tcp/5432 ×2 1.0 kB": protocol, port, flow count, bytes.
std::string short_edge_label(const GraphEdge& e);

}  // namespace netviz
