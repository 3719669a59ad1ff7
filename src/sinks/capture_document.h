#pragma once
// The capture document (docs/output-format.md) written element by element: the same JSON
// as write_capture() of tests/support/json_tree.h, compact, one element per line, without
// building one tree for the whole document, so 100,000 sockets or a million flows cost a
// fraction of the time and memory. Used by the snapshot and the tracer alike.
#include <ostream>

#include "model/capture.h"

namespace netviz {

void write_capture_streamed(std::ostream& out, const Capture& c, bool with_cmdline = true);

}  // namespace netviz
