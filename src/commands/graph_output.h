#pragma once
// The graph options and output both stitch modes share: one run (stitch_command.cpp) and
// --follow (follow.cpp) build and write the graph the same way.
#include <iosfwd>

#include "stitch/graph.h"
#include "stitch/stitch_options.h"

namespace netviz {

GraphOptions graph_options(const StitchOptions& o);
// Writes the graph in the chosen format.
void write_graph(std::ostream& out, const Graph& g, const StitchOptions& o);
// Writes to o.output through AtomicFile, or to `out` when no output file was named.
void emit_graph(const Graph& g, const StitchOptions& o, std::ostream& out);

}  // namespace netviz
