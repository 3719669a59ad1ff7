#pragma once
// netviz-trace --snapshot: one scan of the host, written as a table, JSON lines or a capture.
#include "trace/trace_options.h"

namespace netviz {

int run_snapshot(const TraceOptions& opts);

}  // namespace netviz
