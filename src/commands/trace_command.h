#pragma once
// netviz-trace without --snapshot: checks the kernel, then runs the trace session.
#include "trace/trace_options.h"

namespace netviz {

int run_trace(const TraceOptions& opts);

}  // namespace netviz
