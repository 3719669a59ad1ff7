#pragma once
// Pictures of a stitched graph, laid out and drawn in process by the graphviz library.
#include <stdexcept>
#include <string>

#include "stitch/graph.h"

namespace netviz {

enum class RenderLayout { dot, fdp, sfdp, neato };
RenderLayout parse_layout(const std::string& s);
const char* layout_name(RenderLayout l);

// Graphviz did not finish within the time it was given.
struct RenderTimeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "svg", "png" or "pdf" bytes of the picture write_picture_dot describes. Graphviz runs in a
// forked child: 2.43's dot layout double-frees on some cluster graphs when freed, its state
// is global and not thread-safe, and a child can be stopped when a layout takes longer than
// `timeout_s` (0: no limit; then RenderTimeout). While a RenderWorker lives the child is
// forked by it (render_worker.h says why). Throws std::runtime_error when graphviz fails,
// RenderWorkerLost when the worker is gone.
std::string render_graph(const Graph& g, StitchView view, RenderLayout layout,
                         const std::string& format, double timeout_s = 0);

}  // namespace netviz
