#include "stitch/render_graph.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "stitch/render_dot.h"
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
                         const std::string& format) {
  if (format != "svg" && format != "png" && format != "pdf")
    throw Error("picture format: expected svg, png or pdf, got \"" + format + "\"");
  std::ostringstream dot;
  write_picture_dot(dot, g, view);
  std::string text = dot.str();

  static std::mutex mu;
  std::lock_guard lock(mu);
  agseterr(AGERR);  // warnings (say, a label too long for a cluster) are not failures
  std::unique_ptr<GVC_t, int (*)(GVC_t*)> gvc(gvContext(), gvFreeContext);
  if (!gvc) throw std::runtime_error("graphviz: cannot create a context");
  std::unique_ptr<Agraph_t, int (*)(Agraph_t*)> graph(agmemread(text.c_str()), agclose);
  if (!graph) throw std::runtime_error("graphviz: cannot read the generated DOT");
  if (gvLayout(gvc.get(), graph.get(), layout_name(layout)) != 0)
    throw std::runtime_error(std::string("graphviz: layout ") + layout_name(layout) + " failed");
  char* data = nullptr;
  unsigned int len = 0;
  int rc = gvRenderData(gvc.get(), graph.get(), format.c_str(), &data, &len);
  std::string out;
  if (rc == 0 && data) out.assign(data, len);
  if (data) gvFreeRenderData(data);
  gvFreeLayout(gvc.get(), graph.get());
  if (rc != 0) throw std::runtime_error("graphviz: cannot render " + format);
  return out;
}

}  // namespace netviz
