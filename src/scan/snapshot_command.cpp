// Placeholder until the snapshot work lands.
#include "cli/trace_options.h"
#include "util/error.h"
namespace netviz {
int run_snapshot(const TraceOptions&) { throw Error("--snapshot is not implemented yet"); }
}  // namespace netviz
