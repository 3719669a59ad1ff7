#include "commands/stitch_command.h"

#include <iostream>
#include <optional>

#include "commands/follow.h"
#include "commands/graph_output.h"
#include "stitch/render_graph.h"
#include "stitch/render_worker.h"
#include "commands/subscribe_command.h"
#include "stitch/input_reader.h"
#include "util/error.h"

namespace netviz {

StitchView parse_view(const std::string& s) {
  if (s == "process") return StitchView::process;
  if (s == "pid") return StitchView::pid;
  if (s == "endpoint") return StitchView::endpoint;
  if (s == "host") return StitchView::host;
  if (s == "service") return StitchView::service;
  throw Error("--view: expected process, pid, endpoint, host or service, got \"" + s + "\"");
}

StitchFormat parse_format(const std::string& s) {
  if (s == "dot") return StitchFormat::dot;
  if (s == "json") return StitchFormat::json;
  if (s == "svg") return StitchFormat::svg;
  if (s == "png") return StitchFormat::png;
  if (s == "pdf") return StitchFormat::pdf;
  throw Error("--format: expected dot, json, svg, png or pdf, got \"" + s + "\"");
}

void check_input_source(const StitchOptions& o) {
  if (!o.subscribe.empty()) {
    if (!o.inputs.empty()) throw Error("--subscribe: give either input files or --subscribe, not both");
    return;
  }
  if (!o.durable.empty() || !o.since.empty() || !o.window.empty())
    throw Error("--durable, --since, --window: only with --subscribe");
  if (o.inputs.empty())
    throw Error("no input: name capture files or JSON-lines streams, - for stdin, or --subscribe URL");
  int stdin_uses = 0;
  for (const auto& p : o.inputs) stdin_uses += p == "-";
  if (stdin_uses > 1) throw Error("- (stdin) given more than once");
}

int run_stitch(const StitchOptions& o, std::ostream& out, std::ostream& err) {
  check_input_source(o);
  if (!o.subscribe.empty()) {
    if (o.every < 0) throw Error("--every: expected a number of seconds >= 0");
    if (o.every > 0 && (!o.follow || o.output.empty())) throw Error("--every: needs --follow and -o FILE");
    // The NATS client's threads run while pictures are drawn: they are drawn by a worker
    // forked now, while the process has one thread (render_worker.h).
    std::optional<RenderWorker> worker;
    if (o.format == StitchFormat::svg || o.format == StitchFormat::png ||
        o.format == StitchFormat::pdf)
      worker.emplace();
    return run_subscribe(o, out, err);
  }
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
