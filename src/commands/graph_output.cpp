#include "commands/graph_output.h"

#include <ostream>

#include "stitch/graph_sinks.h"
#include "stitch/render_graph.h"
#include "util/atomic_file.h"

namespace netviz {

GraphOptions graph_options(const StitchOptions& o) {
  GraphOptions g;
  g.view = o.view;
  g.external = o.external;
  g.listeners = o.listeners;
  g.failed = o.failed;
  g.join.skew_ns = static_cast<WallNs>(o.skew * 1e9);
  return g;
}

void write_graph(std::ostream& out, const Graph& g, const StitchOptions& o) {
  if (o.format == StitchFormat::json)
    write_graph_json(out, g);
  else if (o.format == StitchFormat::svg || o.format == StitchFormat::png ||
           o.format == StitchFormat::pdf)
    out << render_graph(g, o.view, parse_layout(o.layout),
                        o.format == StitchFormat::svg   ? "svg"
                        : o.format == StitchFormat::png ? "png"
                                                        : "pdf");
  else
    write_dot(out, g, o.view);
}

void emit_graph(const Graph& g, const StitchOptions& o, std::ostream& out) {
  if (o.output.empty() || o.output == "-") {
    write_graph(out, g, o);
    out.flush();
    return;
  }
  AtomicFile f(o.output);  // 0600, like captures: a graph still maps who talks to whom
  write_graph(f.stream(), g, o);
  f.commit();
}

}  // namespace netviz
