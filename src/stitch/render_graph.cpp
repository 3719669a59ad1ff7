#include "stitch/render_graph.h"

#include <mutex>
#include <sstream>

#include "stitch/graphviz_child.h"
#include "stitch/render_dot.h"
#include "stitch/render_worker.h"
#include "util/error.h"

namespace netviz {

RenderLayout parse_layout(const std::string& s) {
  if (s == "dot") return RenderLayout::dot;
  if (s == "fdp") return RenderLayout::fdp;
  if (s == "sfdp") return RenderLayout::sfdp;
  if (s == "neato") return RenderLayout::neato;
  throw Error("--layout: expected dot, fdp, sfdp or neato, got \"" + s + "\"");
}

const char* layout_name(RenderLayout l) {
  switch (l) {
    case RenderLayout::dot: return "dot";
    case RenderLayout::fdp: return "fdp";
    case RenderLayout::sfdp: return "sfdp";
    case RenderLayout::neato: return "neato";
  }
  return "dot";
}

std::string render_graph(const Graph& g, StitchView view, RenderLayout layout,
                         const std::string& format, double timeout_s) {
  if (format != "svg" && format != "png" && format != "pdf")
    throw Error("picture format: expected svg, png or pdf, got \"" + format + "\"");
  std::ostringstream dot;
  write_picture_dot(dot, g, view);

  // One layout at a time: each takes a core, and the machine has few.
  static std::mutex mu;
  std::lock_guard lock(mu);
  // A process with a worker (the live page's threaded server) sends it the render; one
  // without draws in its own child, which is safe as long as it has one thread.
  RenderWorker* worker = RenderWorker::current();
  ChildRender r = worker ? worker->render(dot.str(), layout_name(layout), format, timeout_s)
                         : render_in_child(dot.str(), layout_name(layout), format, timeout_s);
  if (r.status == ChildRender::Status::timed_out)
    throw RenderTimeout(std::string("graphviz: ") + layout_name(layout) + " layout of " +
                        std::to_string(g.nodes.size()) + " nodes took longer than " +
                        std::to_string(static_cast<int>(timeout_s)) + " s");
  if (r.status != ChildRender::Status::ok) throw std::runtime_error(r.out);
  return std::move(r.out);
}

}  // namespace netviz
