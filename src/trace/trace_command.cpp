// netviz-trace without --snapshot: probe the kernel, then run the session on stdout/stderr.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "cli/trace_options.h"
#include "trace/trace_session.h"

namespace netviz {

int run_trace(const TraceOptions& opts) {
  std::ios::sync_with_stdio(false);
  TraceFeatures f = probe_trace_features();
  // For tests and for kernels where tp_btf loads but misbehaves: force the classic
  // sock:inet_sock_set_state tracepoint.
  if (const char* v = getenv("NETVIZ_TRACE_NO_TP_BTF"); v && *v && std::string(v) != "0")
    f.tp_btf = false;
  return run_trace_session(opts, f, std::cout, std::cerr, isatty(STDOUT_FILENO),
                           isatty(STDERR_FILENO));
}

}  // namespace netviz
