// netviz-trace without --snapshot: probe the kernel, then run the session on stdout/stderr.
#include <unistd.h>

#include <iostream>

#include "cli/trace_options.h"
#include "trace/trace_session.h"

namespace netviz {

int run_trace(const TraceOptions& opts) {
  return run_trace_session(opts, probe_trace_features(), std::cout, std::cerr,
                           isatty(STDOUT_FILENO), isatty(STDERR_FILENO));
}

}  // namespace netviz
