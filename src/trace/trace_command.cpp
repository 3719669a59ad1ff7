// Placeholder until the tracing work lands.
#include "cli/trace_options.h"
#include "util/error.h"
namespace netviz {
int run_trace(const TraceOptions&) { throw Error("tracing is not implemented yet"); }
}  // namespace netviz
