#include "stitch/stitch_command.h"

#include <iostream>

#include "stitch/follow.h"
#include "stitch/graph_sinks.h"
#include "stitch/input_reader.h"
#include "stitch/render_graph.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace netviz {

StitchView parse_view(const std::string& s) {
  if (s == "process") return StitchView::process;
  if (s == "pid") return StitchView::pid;
  if (s == "endpoint") return StitchView::endpoint;
  if (s == "host") return StitchView::host;
  throw Error("--view: expected process, pid, endpoint or host, got \"" + s + "\"");
}

StitchFormat parse_format(const std::string& s) {
  if (s == "dot") return StitchFormat::dot;
  if (s == "json") return StitchFormat::json;
  if (s == "svg") return StitchFormat::svg;
  if (s == "png") return StitchFormat::png;
  if (s == "pdf") return StitchFormat::pdf;
  throw Error("--format: expected dot, json, svg, png or pdf, got \"" + s + "\"");
}

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

int run_stitch(const StitchOptions& o, std::ostream& out, std::ostream& err) {
  if (o.inputs.empty()) throw Error("no input: name capture files or JSON-lines streams, or - for stdin");
  int stdin_uses = 0;
  for (const auto& p : o.inputs) stdin_uses += p == "-";
  if (stdin_uses > 1) throw Error("- (stdin) given more than once");
  if (o.skew < 0) throw Error("--skew: expected a number of seconds >= 0");
  if (o.every < 0) throw Error("--every: expected a number of seconds >= 0");
  if (o.every > 0 && !o.follow) throw Error("--every: only with --follow");
  parse_layout(o.layout);  // a bad name fails before any input is read
  if (o.follow) {
    if (o.every > 0 && o.output.empty()) throw Error("--every: needs -o FILE");
    return run_follow(o, out, err);
  }
  FlowStore store;
  load_inputs(store, o.inputs, o.threads);
  Graph g = build_graph(store, graph_options(o));
  for (const auto& n : g.notes) err << "netviz-stitch: note: " << n << "\n";
  if (g.stats.ambiguous)
    err << "netviz-stitch: note: " << g.stats.ambiguous
        << " flow ends had a remote address configured on several hosts; shown as outside "
           "the group\n";
  if (o.verbose)
    err << "netviz-stitch: " << g.stats.ends << " flow ends, " << g.stats.both
        << " joined on both sides, " << g.stats.one_side << " one-sided, " << g.stats.listener
        << " to a listener, " << g.stats.external << " to peers outside the group ("
        << g.external_hidden << " left out), " << g.stats.failed << " failed connects ("
        << g.failed_hidden << " left out)\n";
  emit_graph(g, o, out);
  return 0;
}

}  // namespace netviz
