#pragma once
#include <iosfwd>

#include "stitch/graph.h"
#include "stitch/stitch_options.h"

namespace netviz {

GraphOptions graph_options(const StitchOptions& o);
// Writes the graph in the chosen format.
void write_graph(std::ostream& out, const Graph& g, const StitchOptions& o);
// Writes to o.output through AtomicFile, or to `out` when no output file was named.
void emit_graph(const Graph& g, const StitchOptions& o, std::ostream& out);

// The whole command: returns the exit status; throws netviz::Error on bad input.
int run_stitch(const StitchOptions& o, std::ostream& out, std::ostream& err);

}  // namespace netviz
