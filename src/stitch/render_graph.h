#pragma once
// Pictures of a stitched graph, laid out and drawn in process by the graphviz library.
#include <string>

#include "stitch/graph.h"

namespace netviz {

enum class RenderLayout { dot, fdp, sfdp, neato };
RenderLayout parse_layout(const std::string& s);
const char* layout_name(RenderLayout l);

// "svg", "png" or "pdf" bytes of the picture write_picture_dot describes. Serialised
// internally: graphviz keeps global state and is not thread-safe. Throws std::runtime_error
// when graphviz fails.
std::string render_graph(const Graph& g, StitchView view, RenderLayout layout,
                         const std::string& format);

}  // namespace netviz
