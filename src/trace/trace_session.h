#pragma once
// One tracing run: hooks first, then the scan, reconciled in the live table, streamed to a
// sink or written as a capture document at the end.
#include <functional>
#include <ostream>

#include "trace/trace_options.h"
#include "trace/trace_features.h"

namespace netviz {

// The whole `netviz-trace` (without --snapshot) with the kernel features given; out and
// err stand for stdout and stderr, out_is_tty/err_is_tty for what they are connected to.
// on_tracing runs once, right before the "tracing" line: hooks attached, scan done (the
// command drops privileges there).
int run_trace_session(const TraceOptions& opts, const TraceFeatures& features, std::ostream& out,
                      std::ostream& err, bool out_is_tty, bool err_is_tty,
                      const std::function<void(std::ostream& err)>& on_tracing = {});

}  // namespace netviz
