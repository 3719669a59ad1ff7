#pragma once
// netviz-stitch --serve: the live page, the graph in every format, and /metrics, over HTTP
// (cpp-httplib), read-only, on loopback unless told otherwise.
#include <cstddef>
#include <iosfwd>
#include <string>

#include "stitch/stitch_options.h"

namespace netviz {

struct ServeOptions {
  std::string address;       // --serve: "127.0.0.1:8080", ":8080" or "8080" (loopback)
  size_t max_nodes = 3000;   // larger graphs are not drawn; the page offers the host view
  double render_timeout = 10;  // seconds a layout may take before the page says "too large"
  size_t metrics_max_series = 10000;
};

// Serves until SIGINT/SIGTERM. Throws netviz::Error (exit 2) when the port cannot be bound.
int run_serve(const StitchOptions& o, const ServeOptions& s, std::ostream& err);

}  // namespace netviz
